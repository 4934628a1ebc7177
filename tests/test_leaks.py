"Nothing a score is computed on reaches anything trained or selected: checked on stores as the pipeline builds them."
import numpy as np
import pytest
from cellfluxmm.evaluate import check_no_leaks
from cellfluxmm.synthetic import sim_config, simulate


@pytest.mark.parametrize('kind', ['pairs', 'compounds'])
def test_simulated_store_holds_test_images_and_profiles_apart(tmp_path, kind):
    st = simulate(sim_config('smoke').replace(split=kind), tmp_path/'store', progress=False)
    counts = check_no_leaks(st, epochs=30)
    assert counts['held_images'] == (st.pairs.split == 'test').sum() > 0
    go, test = st.gene_obs, st.pairs[st.pairs.split == 'test']
    if kind == 'pairs':  # the paper's protocol: the test compounds train on their other wells and replicates
        assert set(test.compound_id) <= set(st.pairs.compound_id[st.pairs.split == 'train'])
        assert set(go.compound_id[go.split == 'train']) >= set(test.compound_id)
    else:
        assert not set(test.compound_id) & set(st.pairs.compound_id[st.pairs.split == 'train'])


def test_store_of_profiles_alone_holds_test_profiles_apart(tmp_path):
    from cellfluxmm.readers import build_l1000_store, write_example_l1000
    st = build_l1000_store(write_example_l1000(tmp_path/'l1000.gctx'), tmp_path/'store', min_genes=978)
    counts = check_no_leaks(st)
    assert counts['held_profiles'] == (st.pairs.split == 'test').sum() > 0
    assert np.isin(st.pairs.profile[st.pairs.split == 'test'], np.flatnonzero(st.gene_obs.split == 'test')).all()
