#!/usr/bin/env bash
# For a GPU node (not run by `make test`): training images per second and model FLOP utilisation of
# the paper-sized joint SiT-XL/2 (20 x 32 x 32 image latent + 8 gene tokens) on one GPU, bf16 autocast.
# Usage: bash tests/gpu_check.sh [BATCH] [STEPS]   (finishes in a few minutes; prints one JSON object)
#        COMPILE=1 bash tests/gpu_check.sh   times the torch.compile'd model instead (compiling takes a minute or two)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
timeout 480 "$PY" - "${1:-64}" "${2:-20}" <<'PYEOF'
import json, sys, time, torch
from torch.utils.flop_counter import FlopCounterMode
from cellfluxmm.sit import JointSiT, sit_config
from cellfluxmm.flow import FlowConfig, flow_loss
if not torch.cuda.is_available(): sys.exit("error: no CUDA GPU here; this check is for a GPU node")
batch, steps = int(sys.argv[1]), int(sys.argv[2])
torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
dev = torch.device('cuda')
cfg = sit_config('SiT-XL/2', image_channels=20, image_size=32, gene_tokens=8, gene_token_dim=16, n_perturbations=21782)
import os
net = JointSiT(cfg).to(dev); opt = torch.optim.AdamW(net.parameters(), lr=1e-4, fused=True)
model = torch.compile(net) if os.environ.get('COMPILE') == '1' else net
z0 = {'image': torch.randn(batch, 20, 32, 32, device=dev), 'gene': torch.randn(batch, 128, device=dev)}
z1 = {k: v + 1 for k, v in z0.items()}; y = torch.randint(0, 21782, (batch,), device=dev)
def step(m=model):
    with torch.autocast('cuda', dtype=torch.bfloat16): loss, _ = flow_loss(m, z0, z1, y, FlowConfig())
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
with FlopCounterMode(display=False) as fc: step(net)  # FLOPs counted on the plain module
flops = fc.get_total_flops()
for _ in range(3): step()
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(steps): step()
torch.cuda.synchronize(); dt = (time.perf_counter() - t) / steps
a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16); b = torch.randn_like(a)
for _ in range(3): a @ b
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(20): a @ b
torch.cuda.synchronize(); peak = 2 * 8192 ** 3 * 20 / (time.perf_counter() - t)
print(json.dumps({'gpu': torch.cuda.get_device_name(), 'batch': batch, 'compiled': model is not net, 'step_s': dt, 'images_per_s': batch / dt,
                  'step_tflop': flops / 1e12, 'achieved_tflops': flops / dt / 1e12, 'bf16_matmul_tflops': peak / 1e12,
                  'mfu_vs_measured_matmul': flops / dt / peak, 'max_memory_gib': torch.cuda.max_memory_allocated() / 2**30}, indent=2))
PYEOF
