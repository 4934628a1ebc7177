"""The `paper` preset's code path, rehearsed on the CPU before a GPU node runs it: the Stable Diffusion VAE loaded from a
local folder, a SiT of the paper's family, real-format inputs (TIFF + load_data CSV + GCTX), bf16 autocast in training,
prepare -> train -> evaluate. Sizes are the smallest that keep the same code: the VAE has the real SD-VAE architecture
with random weights (no download), the SiT is SiT-S/2 (SiT-XL/2's code and patching, 12 layers of 384 instead of 28
of 1152: the XL's optimiser state alone needs about 11 GB), 32-pixel crops, two training steps."""
import json, os
from pathlib import Path
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(
    os.environ.get('CELLFLUXMM_SLOW') != '1',
    reason='slow (about 3 to 4.5 minutes on 2 CPU cores): run it with `make test-slow` (CELLFLUXMM_SLOW=1)')

# the configuration of stabilityai/sd-vae-ft-mse (its config.json), weights left random
SD_VAE_CONFIG = dict(in_channels=3, out_channels=3, down_block_types=('DownEncoderBlock2D',) * 4,
                     up_block_types=('UpDecoderBlock2D',) * 4, block_out_channels=(128, 256, 512, 512),
                     layers_per_block=2, act_fn='silu', latent_channels=4, norm_num_groups=32, sample_size=256,
                     scaling_factor=0.18215)

@pytest.fixture(scope='module')
def paper_run(tmp_path_factory):
    from diffusers import AutoencoderKL
    from cellfluxmm.data import SplitConfig
    from cellfluxmm.readers import build_store, write_example_screen
    from cellfluxmm.configs import EvalConfig, get_preset
    from cellfluxmm.prepare import build_run, prepare
    from cellfluxmm.train import train
    from cellfluxmm.evaluate import evaluate
    d = tmp_path_factory.mktemp('paper')
    torch.manual_seed(0)
    AutoencoderKL(**SD_VAE_CONFIG).save_pretrained(d/'sd-vae-ft-mse', safe_serialization=True)
    p = write_example_screen(d/'raw')
    build_store(p['load_data'], p['l1000'], d/'data'/'store', platemap=p['platemap'], image_root=p['image_root'],
                image_size=32, min_genes=978, split=SplitConfig(n_test=2, n_val=1), progress=False)
    paper = get_preset('paper')
    assert paper.vae == 'stabilityai/sd-vae-ft-mse' and paper.sit == 'SiT-XL/2' and paper.sim == ''
    pr = paper.replace(
        vae=str(d/'sd-vae-ft-mse'), sit='SiT-S/2',
        train=paper.train.replace(steps=2, batch_size=4, val_every=1, val_pairs=2, val_steps=2, ckpt_every=1,
                                  log_every=1, mixed_precision='bf16', device='cpu'),
        eval=paper.eval.replace(n_steps=2, n_boot=10, extractor_steps=5, batch_size=4, device='cpu'))
    logs = []
    prep = prepare(pr, d/'data', progress=False, log=logs.append)
    run = build_run(prep, 'full')
    train(run, prep, d/'run', progress=False, log=logs.append)
    res = evaluate(d/'run', prep, d/'eval', pr.eval, progress=False)
    return d, prep, run, res

def test_paper_components_are_used(paper_run):
    d, prep, run, res = paper_run
    assert prep.image_ae.vae.config.block_out_channels == [128, 256, 512, 512]   # the SD-VAE, from the folder
    assert prep.image_ae.factor == 8 and prep.image_ae.latent_channels == 5 * 4   # each stain through the VAE as RGB
    assert prep.cache.images.shape[1:] == (20, 4, 4)                              # 32-pixel crops -> 4 x 4 latents
    assert (run.sit.depth, run.sit.hidden, run.sit.patch_size) == (12, 384, 2) and run.sit.cond == 'class'
    assert run.sit.dose is False                                                   # the paper conditions on the compound alone
    cfg = json.loads((d/'run'/'run.json').read_text())
    assert cfg['train']['mixed_precision'] == 'bf16'

def test_paper_training_and_evaluation_finish(paper_run):
    d, prep, run, res = paper_run
    log = [json.loads(l) for l in (d/'run'/'log.jsonl').read_text().splitlines()]
    assert max(r.get('step', 0) for r in log) == 2
    assert all(np.isfinite(r['loss']) for r in log if 'loss' in r)
    assert (d/'run'/'best'/'ema.safetensors').exists()
    assert res['n_pairs'] >= 1 and np.isfinite(res['model']['gene_mae'])
    assert 'readout_fd' in res['model'] and 'copy_control' in res
    assert sorted(p.name for p in (d/'eval').iterdir()) == ['generated.zarr', 'metrics.json', 'per_pair.parquet',
                                                           'predicted.h5ad']
