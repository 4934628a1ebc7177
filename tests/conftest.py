import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture
def root(): return ROOT

@pytest.fixture
def l1000_dir():
    "The real L1000 files: $CELLFLUXMM_L1000_DIR, else ../shared/data/l1000 beside the checkout."
    d = Path(os.environ.get('CELLFLUXMM_L1000_DIR', ROOT.parent/'shared'/'data'/'l1000'))
    if not (d/'lincs_a375_l1000.gctx').exists():
        pytest.skip(f"real L1000 files not found in {d}; set CELLFLUXMM_L1000_DIR to the folder holding lincs_a375_l1000.gct(x)")
    return d

EXE = Path(sys.executable).parent/'cellfluxmm'

def reproduce(tmp, *extra):
    "`cellfluxmm reproduce --preset smoke` into `tmp` (data/, results/, figures/); the finished process."
    return subprocess.run([EXE, 'reproduce', '--preset', 'smoke', '--data', tmp/'data', '--results', tmp/'results',
                           '--figures', tmp/'figures', *extra], capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='session')
def smoke(tmp_path_factory):
    "One smoke reproduction (with the inverse steps) for every test that reads it: (folder, the command's result)."
    tmp = tmp_path_factory.mktemp('repro')
    return tmp, reproduce(tmp, '--inverse')
