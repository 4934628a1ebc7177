"What a user does with the data side: simulate, build from real formats, read the real L1000 files."
import subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from cellfluxmm.data import PackedStore, PairDataset, check_pairs

def cli(*args, cwd=None):
    exe = Path(sys.executable).parent/'cellfluxmm'  # the installed console script
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd)

def test_simulate_report_and_dataset(tmp_path):
    r = cli('data', 'simulate', '--preset', 'smoke', '--data', tmp_path/'s', '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'pairs' in r.stdout
    again = cli('data', 'simulate', '--preset', 'smoke', '--data', tmp_path/'s', '--quiet')
    assert 'up to date' in again.stdout
    st = PackedStore(tmp_path/'s'/'store')
    ds = PairDataset(st, 'train', seed=3)
    check_pairs(ds.draws, st.image_obs, st.gene_obs)
    item = ds[0]
    assert item['ctrl_image'].shape == (5, 32, 32) and item['pert_gene'].shape == (978,)
    assert set(st.pairs.split) == {'train', 'val', 'test'}
    assert len(st.split_compounds('test')) == len(st.split_rows('test'))  # distinct compounds

def test_build_from_real_formats(tmp_path):
    from cellfluxmm.readers import write_example_screen
    p = write_example_screen(tmp_path/'raw')
    r = cli('data', 'build', '--load-data', p['load_data'], '--l1000', p['l1000'], '--platemap', p['platemap'],
            '--image-root', p['image_root'], '--data', tmp_path/'data', '--size', 32, '--n-test', 2, '--n-val', 1, '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'missing channel file: 1' in r.stdout
    assert PackedStore(tmp_path/'data'/'store').manifest['source'] == 'readers'

def test_bad_input_is_one_clear_line(tmp_path):
    r = cli('data', 'build', '--load-data', tmp_path/'nope.csv', '--l1000', tmp_path/'x.gctx', '--data', tmp_path/'o')
    assert r.returncode == 2 and r.stderr.startswith('error:') and 'nope.csv does not exist' in r.stderr
    assert 'Traceback' not in r.stderr and not (tmp_path/'o').exists()

def test_real_l1000_files(l1000_dir):
    from cellfluxmm.readers import read_gct, read_gctx
    gx, gt = read_gctx(l1000_dir/'lincs_a375_l1000.gctx'), read_gct(l1000_dir/'lincs_a375_l1000.gct')
    assert gx.data.shape == gt.data.shape == (377, 978)
    assert (gx.samples.index == gt.samples.index).all() and (gx.genes.index == gt.genes.index).all()
    assert (gx.samples.pert_type == 'ctl_vehicle').sum() == 26
    assert 2 < np.nanmedian(gt.data) < 16      # level 3: log2 expression
    assert abs(np.nanmedian(gx.data)) < 1        # level 4: robust z-scores

def test_prepare_refuses_a_folder_of_another_preset_and_train_never_prepares(smoke_data, tmp_path):
    "A folder prepared for smoke (the smoke reproduction's): `prepare` and `train` with the demo preset stop with a clear error and change nothing."
    before = sorted((str(f), f.stat().st_mtime_ns) for f in smoke_data.rglob('*'))
    for cmd in (['prepare'], ['train', '--out', tmp_path/'run']):
        r = cli(*cmd, '--preset', 'demo', '--data', smoke_data, '--quiet')
        assert r.returncode == 2 and "prepared for preset 'smoke', not 'demo'" in r.stderr and '--force' in r.stderr, r.stderr
    assert sorted((str(f), f.stat().st_mtime_ns) for f in smoke_data.rglob('*')) == before and not (tmp_path/'run').exists()
    r = cli('train', '--preset', 'smoke', '--data', tmp_path/'empty', '--quiet')
    assert r.returncode == 2 and 'is not prepared: run `cellfluxmm prepare --preset smoke' in r.stderr and not (tmp_path/'empty').exists()

def test_l1000_only_store_from_the_cli(l1000_dir, tmp_path):
    "`data build --l1000` alone makes a store of profiles: one held-out dose of half the compounds, no image array."
    r = cli('data', 'build', '--l1000', l1000_dir/'lincs_a375_l1000.gctx', '--out', tmp_path/'a375', '--min-genes', 978, '--quiet')
    assert r.returncode == 0, r.stderr
    st = PackedStore(tmp_path/'a375'/'store')
    assert not st.has_images and len(st.pairs) == 351 and st.manifest['split']['kind'] == 'doses'
    test = st.pairs[st.pairs.split == 'test']
    assert test.compound_id.is_unique and set(test.compound_id) <= set(st.pairs.compound_id[st.pairs.split == 'train'])
    r = cli('train', '--preset', 'l1000', '--variant', 'full', '--data', tmp_path/'a375')
    assert r.returncode == 2 and 'is not prepared' in r.stderr

def test_real_benchmark_notebook(l1000_dir, root, tmp_path):
    "The real-data benchmark as papermill runs it, at tiny sizes: both splits scored, the table, the csv and the plot written."
    import pandas as pd
    pm = Path(sys.executable).parent/'papermill'
    r = subprocess.run([str(pm), '--log-level', 'WARNING', root/'nbs'/'paper'/'real_l1000.ipynb', tmp_path/'out.ipynb',
                        '-p', 'l1000_file', str(l1000_dir/'lincs_a375_l1000.gctx'), '-p', 'work_dir', str(tmp_path/'work'),
                        '-p', 'out_dir', str(tmp_path/'fig'), '-p', 'seeds', '1', '-p', 'train_steps', '20',
                        '-p', 'gene_ae_steps', '50', '-p', 'n_draws', '2', '-p', 'progress', 'False'],
                       capture_output=True, text=True, cwd=root)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(tmp_path/'fig'/'real_l1000.csv')
    assert set(df.split) == {'doses', 'compounds'}
    assert {'model_mean', 'compound_mean', 'nearest_dose', 'ridge_dose', 'mean_effect', 'compound_mean_shrunk', 'dose_shared',
            'model_draws', 'compound_mean_shrunk_draws'} <= set(df.method)
    assert set(df.seed) == {100} and df[df.method == 'model_draws'].crps.notna().all()   # the first report seed
    diffs = pd.read_csv(tmp_path/'fig'/'real_l1000_differences.csv')
    assert (diffs.ci_low <= diffs.difference).all() and (diffs.difference <= diffs.ci_high).all() and set(diffs.better) <= {'model', 'baseline', 'tie'}
    assert 'Held-out doses' in (tmp_path/'fig'/'real_l1000.md').read_text() and (tmp_path/'fig'/'real_l1000.png').stat().st_size > 10_000
    r = subprocess.run([str(pm), '--log-level', 'WARNING', root/'nbs'/'paper'/'real_l1000.ipynb', tmp_path/'skip.ipynb',
                        '-p', 'l1000_file', str(tmp_path/'absent.gctx'), '-p', 'out_dir', str(tmp_path/'fig2')],
                       capture_output=True, text=True, cwd=root)
    assert r.returncode == 0 and not (tmp_path/'fig2').exists()
    assert 'skipped' in (tmp_path/'skip.ipynb').read_text()

def test_level5_signatures(l1000_dir, tmp_path):
    "cmapR's level-5 GCTX reads with its latin-1 metadata ('10 µM'); as a store it is refused with the fix: it holds no controls."
    from cellfluxmm.readers import read_l1000
    f = l1000_dir/'modzs_n272x978.gctx'
    if not f.exists(): pytest.skip(f'{f} not found')
    t = read_l1000(f)
    assert t.data.shape == (272, 978) and (t.samples.pert_idose == '10 µM').any()
    r = cli('data', 'build', '--l1000', f, '--out', tmp_path/'l5', '--min-genes', 978)
    assert r.returncode == 2 and 'level-5 signatures' in r.stderr and not (tmp_path/'l5'/'store').exists()
