"Real cells: `cellfluxmm data build --crops` on the real BBBC021 crops and on written fixtures, every bad input one `error:` line with nothing written; the real-cells notebooks at the smallest size that runs every step."
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from cellfluxmm.crops import bbbc021_cells, crop_path, write_example_crops
from cellfluxmm.core import real_data_dir
from cellfluxmm.data import PackedStore
from conftest import inproc

EXE = Path(sys.executable).parent/'cellfluxmm'

def build(index, out, *extra):
    return subprocess.run([str(EXE), 'data', 'build', '--crops', str(index), '--data', str(out), '--quiet', *map(str, extra)],
                          capture_output=True, text=True, timeout=300)

def test_fixture_crops(tmp_path):
    assert inproc('data', 'build', '--crops', write_example_crops(tmp_path, size=24), '--data', tmp_path/'d', '--size', 16, '--quiet').returncode == 0
    st = PackedStore(tmp_path/'d'/'store')
    assert st.channels == ('DNA', 'Tubulin', 'Actin') and st.images.shape == (36, 3, 16, 16) and len(st.pairs) == 24

def _bad_index(tmp, change):
    ix = pd.read_csv(write_example_crops(tmp)); change(ix); ix.to_csv(tmp/'metadata.csv', index=False)

@pytest.mark.parametrize('damage, message', [
    (lambda t: crop_path(t/'cells', 'P1-C10-s1_2').unlink(), '1 of 36 crop files are missing'),
    (lambda t: _bad_index(t, lambda ix: ix.drop(columns=['DOSE'], inplace=True)), "missing column(s) ['DOSE']"),
    (lambda t: np.save(crop_path(t/'cells', 'P2-C01-s1_0'), np.zeros((20, 20, 3), np.float64) + 5), "differs from the first crop's"),
    (lambda t: np.save(crop_path(t/'cells', 'P2-C01-s1_0'), np.zeros((24, 20, 3), np.uint16)), "differs from the first crop's"),
    (lambda t: _bad_index(t, lambda ix: ix.drop(ix.index[(ix.BATCH == 'P1') & (ix.STATE == 0)], inplace=True)),
     "plate(s) ['P1'] have treated cells but no DMSO cells"),
])
def test_bad_crops(tmp_path, damage, message):
    "In this process (the command's own code path, without a second of start-up per case); the exit code as the shell sees it below."
    write_example_crops(tmp_path); damage(tmp_path)
    r = inproc('data', 'build', '--crops', tmp_path/'metadata.csv', '--data', tmp_path/'d', '--quiet')
    rc, err = r.returncode, r.stderr
    assert rc == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith('error: '), err   # one line
    assert not (tmp_path/'d'/'store').exists()                                        # nothing written

def test_unknown_channel_name(tmp_path):
    r = build(write_example_crops(tmp_path), tmp_path/'d', '--channels', 'DNA,Tubulin,GFP')
    assert r.returncode == 2 and "unknown channel name(s) ['GFP']" in r.stderr and not (tmp_path/'d'/'store').exists()
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

@pytest.fixture
def cells():
    f = bbbc021_cells()
    if f is None: pytest.skip(f"BBBC021 crops not found under {real_data_dir()}; set CELLFLUXMM_DATA_DIR to the folder holding bbbc021/")
    return f

def test_real_bbbc021_crops(cells, tmp_path):
    assert inproc('data', 'build', '--crops', cells, '--data', tmp_path/'d', '--quiet').returncode == 0
    st = PackedStore(tmp_path/'d'/'store')
    io = st.image_obs
    assert (len(io), int(io.is_control.sum()), len(st.pairs), st.image_size) == (5499, 3043, 2456, (32, 32))
    assert st.channels == ('DNA', 'Tubulin', 'Actin') and st.images.dtype == np.uint16

def test_real_cells_notebooks(root, tmp_path):
    "The choices and the report at the smallest size, on crops in BBBC021's layout: one development and one report seed, the held-out-dose split."
    write_example_crops(tmp_path/'data'/'bbbc021', n_per=8, doses=(5.0, 15.0, 50.0), plates=('P1', 'P2', 'P3'))
    pm = Path(sys.executable).parent/'papermill'
    tiny = ['-p', 'data_dir', str(tmp_path/'data'), '-p', 'ae_steps', '3', '-p', 'extractor_steps', '3', '-p', 'flow_steps', '3', '-p', 'hidden', '32', '-p', 'depth', '1']
    run = lambda name, *p: subprocess.run([str(pm), '--log-level', 'WARNING', root/'nbs'/'paper'/f'{name}.ipynb', tmp_path/f'{name}.ipynb',
                                           '-p', 'work_dir', str(tmp_path/'w'), '-p', 'out_dir', str(tmp_path/'fig'), *tiny, *p],
                                          capture_output=True, text=True, timeout=600)
    r = run('real_cells_choices', '-p', 'seeds', '1', '-y', 'guidances: [1.0]', '-y', 'steps: [2]')
    assert r.returncode == 0, r.stderr[-3000:]
    choice = json.loads((tmp_path/'fig'/'real_cells_choices.json').read_text())
    assert choice['seeds'] == [0] and choice['choice']['n_steps'] == 2
    r = run('real_cells', '-p', 'seeds', '1', '-y', 'splits: [dose]')
    assert r.returncode == 0, r.stderr[-3000:]
    sc = pd.read_csv(tmp_path/'fig'/'real_cells.csv')
    assert set(sc.seed) == {100} and {'model', 'control', 'mean_shift', 'nearest_dose', 'reconstruction', 'real'} <= set(sc.method)
    assert (tmp_path/'fig'/'real_cells.png').stat().st_size > 10_000
    assert 'Dose response' in (tmp_path/'fig'/'real_cells.md').read_text()
