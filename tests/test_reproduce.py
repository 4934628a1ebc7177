"The main job end to end on the smoke preset: every step a papermill run, resumable, failures reported."
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import EXE, reproduce

def test_smoke_reproduction_then_up_to_date(smoke):
    tmp_path, r = smoke
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for f in ('table1.csv', 'table1.md', 'figure2.png'): assert (tmp_path/'figures'/f).exists(), f
    t1 = pd.read_csv(tmp_path/'figures'/'table1.csv', index_col=0)
    assert {'CellFluxMM (full)', 'w/o GE', 'w/o CP', 'beta = 1', 'beta = 10', 'baseline: copy the control',
            'real vs real (floor)'} <= set(t1.index)
    assert (tmp_path/'results'/'train_full.ipynb').exists() and (tmp_path/'results'/'evaluate_no_cp.ipynb').exists()
    assert r.stdout.count(' done in ') == 18                 # 14 steps and the four inverse ones (model, queries, choice, table)
    assert 'without encryption' not in r.stdout + r.stderr    # the kernels' transport warnings stay out of the console
    inv = pd.read_csv(tmp_path/'figures'/'inverse.csv')
    assert {'seen', 'unseen'} <= set(inv.compounds) and inv[inv.method == 'model'].top5.notna().all()
    assert (tmp_path/'figures'/'inverse.png').exists()
    again = reproduce(tmp_path, '--inverse')
    assert again.returncode == 0 and again.stdout.count('up to date') == 18, again.stdout

def cli(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300)

def test_predict_infer_screen_after_reproduction(smoke):
    "The trained smoke model used as a user would: predict from plate controls, infer from one observed well, screen."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp/'results'/'full'
    out = cli('predict', '--run', run, '--compound', 'SIM-00001', 'SIM-00002', '--image-plate', 'SIMCP001',
              '--gene-plate', 'SIML1K001', '--n', 2, '--out', tmp/'pred', '--quiet')
    assert out.returncode == 0, out.stderr[-2000:]
    import anndata as ad, tifffile
    a = ad.read_h5ad(tmp/'pred'/'profiles.h5ad')
    assert a.shape == (2 * 2 + 2, 978) and a.uns['preset'] == 'smoke'
    assert tifffile.imread(tmp/'pred'/'images'/'SIM-00002_draw1.ome.tif').shape == (5, 32, 32)
    from cellfluxmm.data import PackedStore
    st = PackedStore(tmp/'data'/'store')
    treated = np.flatnonzero(st.image_obs.compound_id == 'SIM-00003')[:1]
    plate = st.image_obs.plate.iloc[treated[0]]
    out = cli('infer', '--run', run, '--observed-image-rows', *treated, '--image-plate', plate, '--gene-plate', 'SIML1K001',
              '--candidates', 'SIM-00001', 'SIM-00002', 'SIM-00003', '--out', tmp/'infer.csv', '--quiet')
    assert out.returncode == 0, out.stderr[-2000:]
    t = pd.read_csv(tmp/'infer.csv')
    assert sorted(t.compound_id) == ['SIM-00001', 'SIM-00002', 'SIM-00003'] and list(t['rank']) == [1, 2, 3]
    out = cli('screen', '--run', run, '--reference', 'SIM-00003', '--candidates', 'SIM-00001', 'SIM-00002', 'SIM-00003',
              '--out', tmp/'screen.csv', '--quiet')
    assert out.returncode == 0, out.stderr[-2000:]
    assert sorted(pd.read_csv(tmp/'screen.csv').compound_id) == ['SIM-00001', 'SIM-00002']
    (tmp/'empty.txt').write_text('\n')
    for args, msg in ((['infer', '--observed-image-rows', 0], 'unknown compound'),           # with --candidates nope
                      (['predict', '--compound', 'SIM-00001'], 'give its control'),
                      (['screen', '--reference', 'SIM-00003', '--candidates-file', tmp/'empty.txt'], 'holds no compound id')):
        extra = ['--candidates', 'nope', '--image-plate', plate, '--gene-plate', 'SIML1K001'] if args[0] == 'infer' else []
        bad = cli(*args, '--run', run, *extra, '--out', tmp/'bad', '--quiet')
        assert bad.returncode == 2 and bad.stderr.startswith('error:') and msg in bad.stderr, bad.stderr

def test_train_refuses_to_resume_with_other_settings(smoke):
    "`train --seed 1` on the folder of a seed-0 run is refused with the difference named; the run is left as it was."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp/'results'/'full'
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob('*') if p.is_file())
    bad = cli('train', '--preset', 'smoke', '--variant', 'full', '--data', tmp/'data', '--out', run, '--seed', 1, '--quiet')
    assert bad.returncode == 2 and bad.stderr.startswith('error:') and 'seed: 0 -> 1' in bad.stderr, bad.stderr[-2000:]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob('*') if p.is_file()) == before

def paper_notebook(tmp, name, **params):
    "Run nbs/paper/NAME with papermill on the smoke reproduction's data folder (8 test pairs, no progress bars)."
    pm = Path(sys.executable).parent/'papermill'
    root = Path(__file__).resolve().parents[1]
    params = {'preset': 'smoke', 'data_dir': tmp/'data', 'pairs': 8, 'progress': False, **params}
    args = ['-y', yaml.safe_dump({k: str(v) if isinstance(v, Path) else v for k, v in params.items()})]
    return subprocess.run([str(pm), '--log-level', 'WARNING', root/'nbs'/'paper'/name, tmp/name, *args],
                          capture_output=True, text=True, timeout=600, cwd=root)

def test_budget_notebook_on_smoke(smoke):
    "`make budget`'s notebook: each run (conditioning, steps) trained from scratch and scored; a table, its markdown and a plot."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'budget.ipynb', out_dir=tmp/'bfig', work_dir=tmp/'budget', runs=[{'cond': 'class', 'steps': 4}, {'cond': 'features', 'steps': 4}])
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'bfig'/'budget.csv')
    base = t[t.conditioning.str.startswith('baseline: ')]
    t = t.drop(base.index)
    assert list(t.conditioning) == ['class', 'features'] and list(t.steps) == [4, 4]
    assert t['gene MAE'].notna().all() and (t['training s'] > 0).all()
    assert 'baseline: copy the control' in set(base.conditioning) and base['gene MAE'].notna().all()
    assert (tmp/'bfig'/'budget.png').exists() and 'features 4' in (tmp/'bfig'/'budget.md').read_text()

def test_sampler_steps_notebook_on_smoke(smoke):
    "`make sampler`'s notebook: each [solver, steps] scored on the same pairs, the noise of a repeat, the choice, a table and a plot."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    # from the command line, as `make sampler` runs it, with its kernel's threads fixed
    args = {'data_dir': tmp/'data', 'run_dir': tmp/'results'/'full', 'out_dir': tmp/'sfig', 'work_dir': tmp/'sampler', 'pairs': 8,
            'samplers': '[[euler, 2], [euler, 5], [heun, 2]]'}
    out = subprocess.run([EXE, 'study', 'sampler_steps', '--preset', 'smoke', '--threads', '1', '--quiet',
                          *[x for k, v in args.items() for x in ('-p', k, str(v))]], cwd=tmp, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert json.loads((tmp/'sampler'/'euler_2'/'provenance.json').read_text())['environment']['torch']['threads'] == 1
    t = pd.read_csv(tmp/'sfig'/'sampler_steps.csv')
    runs = t[t.solver.isin(['euler', 'heun'])]
    assert list(runs.solver) == ['euler', 'euler', 'heun'] and list(runs['velocity evaluations']) == [2, 5, 4]
    assert runs['gene MAE'].notna().all() and runs['Pearson delta'].notna().all()   # (FID 1K needs 1,000 pairs)
    assert runs['good enough'].astype(bool).iloc[1]      # the costliest is the reference: good enough by definition
    assert runs.chosen.astype(bool).sum() == 1 and runs['good enough'][runs.chosen.astype(bool)].astype(bool).all()
    assert t.solver.str.startswith('noise: ').sum() == 1 and t.solver.str.startswith('baseline: ').sum() >= 1
    assert (tmp/'sfig'/'sampler_steps.png').exists() and 'heun 2' in (tmp/'sfig'/'sampler_steps.md').read_text()

def test_guidance_notebook_on_smoke(smoke):
    "`make guidance`'s notebook: image and expression scales scored on the validation pairs, never the test pairs."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'guidance.ipynb', run_dir=tmp/'results'/'full', out_dir=tmp/'gfig', work_dir=tmp/'guidance',
                         pairs=0, image_scales=[1, 3], gene_scales=[1, 2])
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'gfig'/'guidance.csv')
    assert list(t.setting) == ['image 1', 'image 3', 'expression 1', 'expression 2', 'baseline: copy the control',
                               'baseline: per-compound lookup']
    runs = t[~t.setting.str.startswith('baseline')]
    assert runs['gene MAE'].notna().all() and runs['readout FD'].notna().all()
    # each scale moves its own modality (the smoke model's readout of 4 fields is too coarse to show it: compare outputs)
    from cellfluxmm.data import read_fields
    import anndata as ad
    g = tmp/'guidance'
    assert not np.array_equal(read_fields(g/'image1_gene1.2'/'generated.zarr')[:], read_fields(g/'image3_gene1.2'/'generated.zarr')[:])
    img0 = t['image scale'][t.setting == 'expression 1'].iloc[0]
    assert not np.allclose(ad.read_h5ad(g/f'image{img0:g}_gene1'/'predicted.h5ad').X,
                           ad.read_h5ad(g/f'image{img0:g}_gene2'/'predicted.h5ad').X)
    md = (tmp/'gfig'/'guidance.md').read_text()
    assert 'val pairs (not the test split)' in md and (tmp/'gfig'/'guidance.png').exists()
    m = json.loads((tmp/'guidance'/'image3_gene1.2'/'metrics.json').read_text())
    assert m['cfg_scale'] == {'image': 3.0, 'gene': 1.2}

def test_profile_notebook_on_smoke(smoke):
    "The profile study: a fresh training run and an evaluation on validation pairs, each part's seconds, adding up to the whole."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'profile.ipynb', out_dir=tmp/'pfig', work_dir=tmp/'profile', train_steps=10, pairs=4, matmul_n=256)
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'pfig'/'profile.csv')
    for step, g in t.groupby('step'):
        whole = g[g.part == 'the whole step'].seconds.iloc[0]
        assert whole > 0 and abs(g[g.part != 'the whole step'].seconds.sum() - whole) < 1e-3 * whole + 1e-6, step
    train = t[t.step.str.startswith('train')].set_index('part').seconds
    assert train["the model's forward and the loss"] > 0 and train['backward'] > 0 and train['optimiser step'] > 0
    ev = t[t.step.str.startswith('evaluate')].set_index('part').seconds
    assert ev['sampling (the velocity field, every draw)'] > 0 and ev['decoding generated fields (VAE)'] > 0
    from cellfluxmm.data import PackedStore
    evaluated_pairs = set(pd.read_parquet(tmp/'profile'/'eval'/'per_pair.parquet').pair)
    assert evaluated_pairs and evaluated_pairs <= set(PackedStore(tmp/'data'/'store').split_rows('val'))   # never a test pair
    floor = pd.read_csv(tmp/'pfig'/'profile_floor.csv')
    assert len(floor) == 2 and (floor.TFLOP > 0).all() and ((floor['floor / measured'] > 0) & (floor['floor / measured'] < 2)).all()

def test_step_floors_on_smoke(smoke):
    "`cellfluxmm bench`'s last section: each training and evaluation step of a reproduction beside its compute floor."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    from cellfluxmm.bench import step_floors
    from cellfluxmm.prepare import Prepared
    from cellfluxmm.bench import matmul_flops_per_s
    t = step_floors(Prepared.open(tmp/'data', 'smoke'), tmp/'results', variants=('full', 'no_cp'),
                    rate=lambda threads: matmul_flops_per_s(n=256)).set_index('step')   # a small product: a rough rate, quickly
    assert list(t.index) == ['train full', 'evaluate full', 'train no_cp', 'evaluate no_cp']
    assert (t.threads >= 1).all() and (t.TFLOP > 0).all() and (t.seconds > 0).all()
    assert ((t['floor / wall'] > 0) & (t['floor / wall'] < 1)).all()        # a smoke step is mostly start-up
    assert t.TFLOP['train no_cp'] < t.TFLOP['train full']                   # expression alone: less arithmetic
    from cellfluxmm.bench import reproduction_bound
    b1, b7 = (reproduction_bound(tmp/'results', t.reset_index(), s, cores=2) for s in (1.0, 0.7))
    assert b1['prepare s'] > 0 and b1['other steps s'] > 0                  # the baselines, Table 1 and Figure 2 were stamped
    assert b1['prepare s'] < b1['seconds'] < b7['seconds']
    from cellfluxmm.bench import bench_precision
    from cellfluxmm.prepare import build_run
    prep = Prepared.open(tmp/'data', 'smoke')
    b = bench_precision(prep, build_run(prep, 'full'), reps=1, n=64, pairs=4)
    assert isinstance(b['fast_bf16'], bool) and all(b[k]['fp32_s'] > 0 and b[k]['speedup'] > 0 for k in ('matmul', 'train_step', 'sampling_pass'))

def test_precision_notebook_on_smoke(smoke):
    "`make precision`'s notebook: float32, bfloat16 and float32's repeat scored on the same validation pairs, the choice."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'precision.ipynb', run_dir=tmp/'results'/'full', out_dir=tmp/'pfig2', work_dir=tmp/'precision')
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'pfig2'/'precision.csv')
    assert list(t.precision[:2]) == ['fp32', 'bf16'] and t.precision[2].startswith('noise: ')
    assert t['good enough'][0] and t.chosen[:2].astype(bool).sum() == 1 and t['gene MAE'][:2].notna().all()
    assert json.loads((tmp/'precision'/'bf16'/'metrics.json').read_text())['precision'] == 'bf16'   # recorded with the scores
    assert 'precision' not in json.loads((tmp/'precision'/'fp32'/'metrics.json').read_text())

def test_train_speed_notebook_on_smoke(smoke):
    "`make train-speed`'s notebook: the preset's training twice (the noise), candidates with their own schedules, the choice."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'train_speed.ipynb', out_dir=tmp/'tfig', work_dir=tmp/'speed', pairs=0,
                         candidates=[{'steps': 12}, {'steps': 12, 'time_sampling': 'logit_normal', 'warmup': 2, 'decay': 'cosine', 'lr': 2e-4}])
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'tfig'/'train_speed.csv')
    runs = t[t.steps.notna()]
    assert list(runs.steps) == [20, 12, 12] and list(runs.seed) == [0, 0, 0]   # the preset's training first
    assert runs['good enough'].astype(bool).iloc[0] and runs.chosen.astype(bool).sum() == 1
    assert runs['good enough'][runs.chosen.astype(bool)].astype(bool).all() and runs['gene MAE'].notna().all()
    assert t.run.str.startswith('noise: ').sum() == 1 and (tmp/'tfig'/'train_speed.png').exists()
    from cellfluxmm.configs import RunConfig
    from cellfluxmm.train import read_log
    d = next((tmp/'speed').glob('steps12_time_samplinglogit_normal*'))
    run = RunConfig.load(d/'run.json')
    assert (run.flow.time_sampling, run.train.warmup, run.train.decay, run.train.steps) == ('logit_normal', 2, 'cosine', 12)
    lr = read_log(d).set_index('step').lr
    assert lr.max() <= 2e-4 and lr[12] < 0.1 * lr.max()                     # warmed up to the peak, decayed at the end

STUDIES = ('guidance', 'sampler_steps', 'budget', 'source', 'train_speed', 'precision')   # the notebooks of nbs/paper/ that choose a setting

def test_studies_are_library_calls():
    "No notebook of nbs/paper/ keeps its own evaluation cache or parses a string spec: `evaluate.evaluated`, typed parameters."
    import re
    paper = Path(__file__).resolve().parents[1]/'nbs'/'paper'
    for nb in sorted(paper.glob('*.ipynb')):
        code = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        assert not re.search(r"st_mtime|\.split\((':'|','|\"[:,]\")\)", code), f"{nb.name} parses a string spec or keeps a cache"

def test_every_selection_study_refuses_the_test_split(smoke):
    """Each study scores through `evaluate.selection_config`, which refuses the test split (`16_evaluate` tests it); one
    study run from the command line with `-p split test` shows the refusal end to end."""
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    paper = Path(__file__).resolve().parents[1]/'nbs'/'paper'
    for name in STUDIES:
        assert 'selection_config(' in (paper/f'{name}.ipynb').read_text(), name
    assert 'choice_split(split)' in (paper/'inverse_val.ipynb').read_text()   # the calibration weight's study
    args = ['-p', 'data_dir', tmp/'data', '-p', 'run_dir', tmp/'results'/'full', '-p', 'out_dir', tmp/'xfig', '-p', 'work_dir', tmp/'x']
    bad = subprocess.run([EXE, 'study', 'sampler_steps', '--preset', 'smoke', *map(str, args), '-p', 'split', 'test', '--quiet'],
                         cwd=tmp, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and 'must not read the test split' in bad.stderr, bad.stderr[-2000:]

def test_source_notebook_on_smoke(smoke):
    "`make source`'s notebook: runs from noise (the control a condition) and a wider SiT beside the preset's run; table and figure."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    out = paper_notebook(tmp, 'source.ipynb', run_dir=tmp/'results'/'full', out_dir=tmp/'ofig', work_dir=tmp/'source',
                         runs=[{'start': 'noise', 'steps': 4}, {'start': 'control', 'steps': 4, 'hidden': 32, 'depth': 1}])
    assert out.returncode == 0, out.stderr[-3000:]
    t = pd.read_csv(tmp/'ofig'/'source.csv')
    runs = t[~t.run.str.startswith('baseline: ')]
    assert list(runs.start) == ['control', 'noise', 'control'] and list(runs.SiT)[2] == '32x1'
    assert runs['gene MAE'].notna().all() and runs['readout FD'].notna().all()
    from cellfluxmm.checkpoints import read_checkpoint
    assert read_checkpoint(tmp/'source'/'noise_4'/'best')['run'].sit.image_from_noise       # the run it says it is
    assert not read_checkpoint(tmp/'source'/'control_4_32x1'/'best')['run'].sit.image_from_noise
    assert (tmp/'ofig'/'source.png').exists() and 'noise:4' in (tmp/'ofig'/'source.md').read_text()
    bad = paper_notebook(tmp, 'source.ipynb', run_dir=tmp/'results'/'full', out_dir=tmp/'ofig', work_dir=tmp/'source',
                         runs=[{'start': 'sky', 'steps': 4}])
    assert bad.returncode != 0 and "the start is 'noise' or 'control'" in bad.stderr

def test_failing_step_is_reported_and_resumed(smoke):
    "Last in this file: it breaks the smoke reproduction's full model, which the tests above read."
    tmp_path, ok = smoke
    assert ok.returncode == 0, ok.stderr[-3000:]
    # break the full model's checkpoint, and make the evaluation rerun: it must fail in the notebook, naming the cell
    (tmp_path/'results'/'.stamps'/'evaluate_full.json').unlink()
    (tmp_path/'results'/'full'/'best'/'ema.safetensors').write_bytes(b'broken')
    bad = reproduce(tmp_path, '--variants', 'full')
    assert bad.returncode == 1
    assert "step 'evaluate full' failed in nbs/paper/evaluate.ipynb, cell [" in bad.stderr and 'evaluate_full.ipynb' in bad.stderr
    assert (tmp_path/'results'/'evaluate_full.ipynb').exists()          # the executed notebook is kept
    assert bad.stdout.count('up to date') == 3                             # prepare, baselines and train were not redone
