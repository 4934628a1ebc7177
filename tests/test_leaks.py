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


def _profile_store(tmp_path):
    "A store of morphology profiles from a small per-well table (three plates, six compounds at three doses)."
    import pandas as pd
    from cellfluxmm.profiles import FEATURE_PREFIXES, build_profile_store
    from cellfluxmm.data import SplitConfig
    rng, rows = np.random.default_rng(0), []
    for p in range(3):
        rows += [(f'P{p}', 'DMSO', 0.0)] * 4 + [(f'P{p}', f'C{c}', d) for c in range(6) for d in (0.1, 1.0, 10.0)]
    df = pd.DataFrame(rows, columns=['Metadata_Plate', 'Metadata_Compound', 'Metadata_Concentration'])
    df['Metadata_Well'] = [f'W{i:03d}' for i in range(len(df))]
    df['Metadata_moa'] = df.Metadata_Compound.map(lambda c: 'DMSO' if c == 'DMSO' else f'm{int(c[1]) % 3}')
    for i in range(8): df[f'{FEATURE_PREFIXES[i % 3]}F{i}'] = 50 + 5 * rng.standard_normal(len(df))
    df.to_csv(tmp_path/'wells.csv', index=False)
    return build_profile_store(tmp_path/'wells.csv', tmp_path/'store', split=SplitConfig(kind='doses', n_test=2, n_val=2))


def test_store_of_morphology_profiles_holds_test_wells_apart(tmp_path):
    st = _profile_store(tmp_path)
    counts = check_no_leaks(st)
    assert counts['held_profiles'] == (st.pairs.split == 'test').sum() > 0
    go = st.gene_obs
    assert not set(np.flatnonzero(go.split == 'test')) & set(np.flatnonzero(go.split.isin(['train', 'val'])))


def test_no_choice_on_morphology_profiles_reads_a_test_well(tmp_path):
    "The baselines' weights, the MoA references and the features kept are the same whatever the test wells hold."
    import pandas as pd
    from cellfluxmm.gene_baselines import poisoned
    from cellfluxmm.l1000 import choose_benchmark
    from cellfluxmm.profiles import normalize_plates, select_features
    from cellfluxmm.real_profiles import moa_references
    st = _profile_store(tmp_path)
    bad = poisoned(st, ('test',))                       # every test well NaN: whatever reads one shows it
    a, b = choose_benchmark(st), choose_benchmark(bad)
    assert a['w'] == b['w'] and np.isfinite(list(b['mae_by_w']['compound_mean'].values())).all()
    ra, rb = moa_references(st)[0], moa_references(bad)[0]
    assert np.isfinite(rb).all() and np.array_equal(ra, rb)
    # normalisation and feature selection read the DMSO wells alone: treated wells changed at will change nothing else
    obs = st.gene_obs.assign(moa=None)
    x = pd.DataFrame(np.asarray(st.genes, np.float64), columns=st.gene_symbols)
    y = x.copy(); treated = ~obs.is_control.to_numpy()
    y.loc[treated] = np.random.default_rng(1).standard_normal((treated.sum(), x.shape[1])) * 100
    zx, zy = normalize_plates(obs, x), normalize_plates(obs, y)
    assert np.array_equal(zx[~treated].to_numpy(), zy[~treated].to_numpy())
    assert select_features(obs, zx) == select_features(obs, zy)


def test_no_test_cell_reaches_the_real_cells_training_or_choices(tmp_path):
    "Real cells: test (and validation) cells' pixels replaced by noise change no trained weight or threshold, nor a choice."
    from cellfluxmm.crops import build_crop_store, write_example_crops
    from cellfluxmm.real_cells import CellsConfig, _with_images, cell_roles, choice_study, leak_check
    st = build_crop_store(write_example_crops(tmp_path, doses=(1.0, 3.0, 10.0), n_per=10), tmp_path/'s', size=16, progress=False)
    tiny = CellsConfig(ae_steps=3, extractor_steps=3, hidden=32, depth=1, heads=2, flow_steps=3, n_steps=2)
    for split in ('dose', 'plate:P1'): assert leak_check(st, split, 0, tiny), split
    assert leak_check(st, 'dose', 0, tiny, on='val')
    x = st.read_images(np.arange(len(st.image_obs)))
    test = cell_roles(st.image_obs, 'dose', 0) == 'test'
    x[test] = np.random.default_rng(2).integers(0, 65535, x[test].shape).astype(np.uint16)
    a = choice_study(st, (0,), tiny, (1.0,), (2,), log=None)
    b = choice_study(_with_images(st, x), (0,), tiny, (1.0,), (2,), log=None)
    assert a.equals(b)                      # the validation scores behind every choice ignore the test cells
