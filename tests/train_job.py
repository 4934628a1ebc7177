"""Train the smoke preset's full model on prepared data (a subprocess of the tests: torchrun, SIGKILL, plain).
usage: train_job.py DATA_DIR OUT_DIR [GRAD_ACCUM] [STEPS] [CKPT_EVERY]"""
import sys
from cellfluxmm.prepare import Prepared, build_run
from cellfluxmm.train import train

data_dir, out_dir = sys.argv[1], sys.argv[2]
grad_accum, steps, ckpt_every = (int(a) for a in (sys.argv[3:] + ['1', '8', '8'][len(sys.argv) - 3:])[:3])
prep = Prepared.open(data_dir, 'smoke')
run = build_run(prep, 'full', steps=steps, batch_size=16, grad_accum=grad_accum, device='cpu', val_every=1000,
                ckpt_every=ckpt_every, log_every=1)
train(run, prep, out_dir, progress=False, log=lambda *a: None)
