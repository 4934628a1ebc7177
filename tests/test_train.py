"Training as a user runs it: the papermill notebook, and the same weights from one or two processes."
import os, subprocess, sys
from pathlib import Path
import torch
from cellfluxmm.checkpoints import read_checkpoint

BIN = Path(sys.executable).parent

def test_papermill_train_notebook(root, smoke_data, tmp_path):
    out = tmp_path/'run'
    r = subprocess.run([BIN/'papermill', root/'nbs'/'paper'/'train.ipynb', tmp_path/'train.ipynb', '-p', 'preset', 'smoke',
                        '-p', 'data_dir', str(smoke_data), '-p', 'out_dir', str(out), '-p', 'progress', 'False', '--cwd', root],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out/'loss.png').exists() and (out/'best'/'ema.safetensors').exists()
    assert (tmp_path/'train.ipynb').exists()   # the executed notebook is kept

def test_two_processes_match_one(smoke_data, tmp_path):
    "A 2-process gloo run (torchrun) ends with the weights of a 1-process run with the same global batch."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    script = Path(__file__).parent/'train_job.py'
    one = subprocess.run([sys.executable, script, smoke_data, tmp_path/'one', '1'], capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([BIN/'torchrun', '--nproc_per_node', '2', '--master_port', '29517', script, smoke_data, tmp_path/'two', '1'],
                         capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    acc = subprocess.run([sys.executable, script, smoke_data, tmp_path/'acc', '2'], capture_output=True, text=True, env=env)
    assert acc.returncode == 0, acc.stderr[-3000:]
    ref = read_checkpoint(tmp_path/'one'/'checkpoints'/'step_0000008')
    for other in ('two', 'acc'):
        ck = read_checkpoint(tmp_path/other/'checkpoints'/'step_0000008')
        for k, v in ref['model'].items():  # tolerance: float32 sums in another order over 8 Adam steps
            torch.testing.assert_close(ck['model'][k], v, atol=2e-5, rtol=1e-4, msg=f'{other}: {k}')
