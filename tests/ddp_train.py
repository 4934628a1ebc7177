"Train the smoke preset's full model on prepared data; run by tests/test_train.py under torchrun (2 processes) or alone."
import sys
from cellfluxmm.train import build_run, prepare, train

data_dir, out_dir, grad_accum = sys.argv[1], sys.argv[2], int(sys.argv[3])
prep = prepare('smoke', data_dir, progress=False, log=lambda *a: None)
run = build_run('smoke', 'full', prep, steps=8, batch_size=16, grad_accum=grad_accum, device='cpu', val_every=1000, ckpt_every=8)
train(run, prep, out_dir, progress=False, log=lambda *a: None)
