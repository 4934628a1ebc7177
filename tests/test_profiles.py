"Morphology profiles: `cellfluxmm data build --profiles` on the real BBBC021 tables and on written fixtures, every bad input one `error:` line with nothing written."
import os, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from cellfluxmm.data import PackedStore
from cellfluxmm.profiles import FEATURE_PREFIXES, bbbc021_profiles, real_data_dir
from conftest import inproc

EXE = Path(sys.executable).parent/'cellfluxmm'

def cli(*args):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, timeout=300)

def wells(plates=('P1', 'P2'), compounds=('A', 'B'), doses=(1.0, 10.0), n_ctrl=3, n_feat=5, seed=0) -> pd.DataFrame:
    "A per-well table in pycytominer's layout: per plate n_ctrl DMSO wells and each compound at each dose."
    rng, rows = np.random.default_rng(seed), []
    for p in plates:
        rows += [(p, 'DMSO', 0.0)] * n_ctrl + [(p, c, d) for c in compounds for d in doses]
    df = pd.DataFrame(rows, columns=['Metadata_Plate', 'Metadata_Compound', 'Metadata_Concentration'])
    df.insert(1, 'Metadata_Well', [f'W{i:02d}' for i in range(len(df))])
    feats = pd.DataFrame(100 + 10 * rng.standard_normal((len(df), n_feat)), columns=[f'{FEATURE_PREFIXES[i % 3]}F{i}' for i in range(n_feat)])
    return pd.concat([df, feats], axis=1)

def build(tmp, df, *extra, name='t.csv', **kw):
    df.to_csv(tmp/name, index=False, **kw)
    return inproc('data', 'build', '--profiles', tmp/name, '--data', tmp/'d', '--no-select', *extra)

def test_fixture_store(tmp_path):
    r = build(tmp_path, wells())
    assert r.returncode == 0, r.stderr
    st = PackedStore(tmp_path/'d'/'store')
    assert st.modality == 'morphology' and st.manifest['n_genes'] == 5 and len(st.pairs) == 8
    assert 'features' in repr(st) and 'genes' not in repr(st)

@pytest.mark.parametrize('change, message', [
    (lambda d: d.drop(columns='Metadata_Plate'), 'no plate column'),
    (lambda d: d.drop(columns='Metadata_Concentration'), 'no dose column'),
    (lambda d: d.assign(Cells_F0=d.Cells_F0.astype(str).where(d.index != 4, 'high')), "feature 'Cells_F0' is not numeric"),
    (lambda d: d.assign(Cytoplasm_F1=d.Cytoplasm_F1.where(d.index != 4, np.nan)), 'have missing or infinite features'),
    (lambda d: pd.concat([d, d.iloc[[5]]]), 'rows share a plate and well'),
    (lambda d: d[~((d.Metadata_Plate == 'P2') & (d.Metadata_Compound == 'DMSO'))], "plate 'P2' has no DMSO well"),
    (lambda d: d.assign(Metadata_Compound=d.Metadata_Compound.where(d.index != 4, None)), 'without a compound or a positive dose'),
])
def test_bad_tables(tmp_path, change, message):
    r = build(tmp_path, change(wells()))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr       # one line
    assert not (tmp_path/'d'/'store').exists()                      # nothing written

def test_latin1_names(tmp_path):
    df = wells(); df['Metadata_Compound'] = df.Metadata_Compound.replace({'A': 'café'})
    r = build(tmp_path, df, encoding='latin-1')
    assert r.returncode == 0, r.stderr
    assert 'café' in PackedStore(tmp_path/'d'/'store').compounds.compound_id.tolist()

def test_profiles_alone(tmp_path):
    r = build(tmp_path, wells(), '--l1000', tmp_path/'x.gctx')
    assert r.returncode == 2 and 'drop --l1000' in r.stderr

@pytest.fixture
def bbbc021():
    f = bbbc021_profiles()
    if f is None: pytest.skip(f"BBBC021 profiles not found under {real_data_dir()}; set CELLFLUXMM_DATA_DIR to the folder holding bbbc021/")
    return f

def test_real_bbbc021_profiles(bbbc021, tmp_path):
    r = cli('data', 'build', '--profiles', bbbc021['table'], '--annotations', bbbc021['annotations'], '--moa', bbbc021['moa'],
            '--data', tmp_path/'d')
    assert r.returncode == 0, r.stderr
    st = PackedStore(tmp_path/'d'/'store')
    assert (st.manifest['n_profiles'], len(st.pairs), len(st.compounds), st.compounds.moa.nunique()) == (632, 302, 38, 12)
    assert st.gene_obs.groupby('plate').is_control.sum().eq(6).all()
    ctl = np.asarray(st.genes)[st.gene_obs.is_control.to_numpy()]
    assert abs(np.median(ctl)) < 0.05                       # robust z-scores against each plate's DMSO wells
    assert (st.pairs.split == 'test').sum() > 0 and set(st.split_compounds('test')) <= set(st.split_compounds('train'))
    # the normalised, feature-selected table of the same wells reads too (its compound and MoA in its own columns)
    norm = Path(bbbc021['table']).parent/'feature_selected_mad_robustize.csv.gz'
    r = cli('data', 'build', '--profiles', norm, '--data', tmp_path/'n', '--no-normalize', '--no-select')
    assert r.returncode == 0, r.stderr
    assert PackedStore(tmp_path/'n'/'store').manifest['n_genes'] == 189

def test_real_profiles_notebook(bbbc021, root, tmp_path):
    "The real-profiles benchmark as papermill runs it, at tiny sizes: every method scored, the MoA test, the tables and plots written; without the data it skips."
    pm = Path(sys.executable).parent/'papermill'
    run = lambda out, *p: subprocess.run([str(pm), '--log-level', 'WARNING', root/'nbs'/'paper'/'real_profiles.ipynb', out, *p],
                                         capture_output=True, text=True, cwd=root, timeout=600)
    r = run(tmp_path/'out.ipynb', '-p', 'work_dir', str(tmp_path/'work'), '-p', 'out_dir', str(tmp_path/'fig'), '-p', 'seeds', '1',
            '-p', 'train_steps', '20', '-p', 'gene_ae_steps', '50', '-p', 'n_draws', '2', '-p', 'progress', 'False')
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(tmp_path/'fig'/'real_profiles.csv')
    assert set(df.split) == {'doses'} and set(df.seed) == {100}     # the first report seed
    assert {'model_mean', 'compound_mean_shrunk', 'ridge_dose_shrunk', 'dose_shared', 'mean_effect', 'nearest_dose',
            'model_draws', 'compound_mean_shrunk_draws'} <= set(df.method)
    moa = pd.read_csv(tmp_path/'fig'/'real_profiles_moa_summary.csv')
    assert {'real', 'model_mean', 'compound_mean_shrunk'} <= set(moa.method) and set(moa.metric) == {'nsc', 'ap'}
    assert ((moa.ci_low <= moa['mean']) & (moa['mean'] <= moa.ci_high)).all()
    md = (tmp_path/'fig'/'real_profiles.md').read_text()
    assert 'CellFluxMM profile-only' in md and 'NSC accuracy' in md and 'gene-only' not in md
    assert (tmp_path/'fig'/'real_profiles.png').stat().st_size > 10_000 and (tmp_path/'fig'/'real_profiles_moa.png').stat().st_size > 10_000
    r = run(tmp_path/'skip.ipynb', '-p', 'data_dir', str(tmp_path/'absent'), '-p', 'out_dir', str(tmp_path/'fig2'))
    assert r.returncode == 0 and not (tmp_path/'fig2').exists() and 'skipped' in (tmp_path/'skip.ipynb').read_text()
