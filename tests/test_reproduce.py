"The main job end to end on the smoke preset: every step a papermill run, resumable, failures reported."
import json, subprocess, sys
from pathlib import Path
import pandas as pd

EXE = Path(sys.executable).parent/'cellfluxmm'

def reproduce(tmp, *extra):
    return subprocess.run([EXE, 'reproduce', '--preset', 'smoke', '--data', tmp/'data', '--results', tmp/'results',
                           '--figures', tmp/'figures', *extra], capture_output=True, text=True, timeout=600)

def test_smoke_reproduction_then_up_to_date(tmp_path):
    r = reproduce(tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for f in ('table1.csv', 'table1.md', 'figure2.png'): assert (tmp_path/'figures'/f).exists(), f
    t1 = pd.read_csv(tmp_path/'figures'/'table1.csv', index_col=0)
    assert {'CellFluxMM (full)', 'w/o GE', 'w/o CP', 'beta = 1', 'beta = 10', 'baseline: copy the control',
            'real vs real (floor)'} <= set(t1.index)
    assert (tmp_path/'results'/'train_full.ipynb').exists() and (tmp_path/'results'/'evaluate_no_cp.ipynb').exists()
    assert r.stdout.count(' done in ') == 13
    again = reproduce(tmp_path)
    assert again.returncode == 0 and again.stdout.count('up to date') == 13, again.stdout

def test_failing_step_is_reported_and_resumed(tmp_path):
    ok = reproduce(tmp_path, '--variants', 'full')
    assert ok.returncode == 0, ok.stderr[-3000:]
    # break the full model's checkpoint, and make the evaluation rerun: it must fail in the notebook, naming the cell
    (tmp_path/'results'/'.stamps'/'evaluate_full.json').unlink()
    (tmp_path/'results'/'full'/'best'/'ema.safetensors').write_bytes(b'broken')
    bad = reproduce(tmp_path, '--variants', 'full')
    assert bad.returncode == 1
    assert "step 'evaluate full' failed in nbs/paper/evaluate.ipynb, cell [" in bad.stderr and 'evaluate_full.ipynb' in bad.stderr
    assert (tmp_path/'results'/'evaluate_full.ipynb').exists()          # the executed notebook is kept
    assert bad.stdout.count('up to date') == 2                             # prepare and train were not redone
