"What the project guarantees when things fail: crash-safe training, safe loading, clear errors for bad input."
import json, os, random, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch

from cellfluxmm.checkpoints import read_checkpoint, step_checkpoints, CheckpointError
from cellfluxmm.prepare import prepare

JOB = Path(__file__).parent/'train_job.py'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}

def job(data, out, steps=24, ckpt=3):
    return [sys.executable, JOB, str(data), str(out), '1', str(steps), str(ckpt)]

def test_sigkill_then_resume_matches_uninterrupted(smoke_data, tmp_path):
    "Killed with SIGKILL at a random step and resumed, a run ends with the EMA weights of an uninterrupted run (CPU, tol 1e-6)."
    ref = subprocess.run(job(smoke_data, tmp_path/'ref'), env=ENV, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    kill_at = random.Random().randint(4, 20)
    p = subprocess.Popen(job(smoke_data, tmp_path/'cut'), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log, t0 = tmp_path/'cut'/'log.jsonl', time.time()
    while p.poll() is None and time.time() - t0 < 120:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= kill_at: p.send_signal(signal.SIGKILL); break
        time.sleep(0.05)
    p.wait()
    res = subprocess.run(job(smoke_data, tmp_path/'cut'), env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    a = read_checkpoint(tmp_path/'ref'/'checkpoints'/'step_0000024')
    b = read_checkpoint(tmp_path/'cut'/'checkpoints'/'step_0000024')
    for k in a['ema']: torch.testing.assert_close(b['ema'][k], a['ema'][k], atol=1e-6, rtol=0, msg=f'killed at log line {kill_at}: {k}')
    assert not [p_ for p_ in (tmp_path/'cut'/'checkpoints').iterdir() if p_.name.startswith('.')]  # no half-written debris
    steps = [json.loads(l)['step'] for l in log.read_text().splitlines()]
    assert steps == sorted(set(steps))                                                            # no duplicated log steps

def test_truncated_checkpoint_is_named_and_skipped(smoke_data, tmp_path):
    r = subprocess.run(job(smoke_data, tmp_path/'run', steps=6, ckpt=3), env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    newest = step_checkpoints(tmp_path/'run')[0]
    f = newest/'optimizer.pt'; f.write_bytes(f.read_bytes()[:len(f.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match=str(newest)): read_checkpoint(newest)
    from cellfluxmm.prepare import build_run
    from cellfluxmm.train import train
    prep = prepare('smoke', smoke_data, progress=False, log=lambda *a: None)
    msgs = []
    train(build_run(prep, 'full', steps=6, batch_size=16, ckpt_every=3, val_every=1000, device='cpu'), prep,
          tmp_path/'run', progress=False, log=msgs.append)
    assert any('unreadable' in m for m in msgs) and any('resuming from' in m and 'step_0000003' in m for m in msgs)

def test_optimizer_state_loads_without_unpickling_code(smoke_data, tmp_path):
    r = subprocess.run(job(smoke_data, tmp_path/'run', steps=3, ckpt=3), env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    ck = step_checkpoints(tmp_path/'run')[0]
    torch.load(ck/'optimizer.pt', weights_only=True)                  # plain tensors and numbers only
    class Evil:
        def __reduce__(self): return (os.system, ('echo pwned',))
    torch.save({'state': Evil()}, ck/'optimizer.pt')
    with pytest.raises(CheckpointError, match='unreadable'): read_checkpoint(ck)   # refused, never executed

def test_same_seed_same_data_and_loss_curve(smoke_data, tmp_path):
    from cellfluxmm.synthetic import simulate
    a, b = simulate('smoke', tmp_path/'a', progress=False), simulate('smoke', tmp_path/'b', progress=False)
    assert (a.read_images(range(20)) == b.read_images(range(20))).all() and (np.asarray(a.genes) == np.asarray(b.genes)).all()
    for out in ('r1', 'r2'):
        r = subprocess.run(job(smoke_data, tmp_path/out, steps=5, ckpt=5), env=ENV, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
    l1, l2 = (pd.read_json(tmp_path/o/'log.jsonl', lines=True).loss.to_numpy() for o in ('r1', 'r2'))
    assert (l1 == l2).all()
