import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture
def root(): return ROOT

@pytest.fixture
def l1000_dir():
    "The real L1000 files: $CELLFLUXMM_L1000_DIR, else l1000/ in $CELLFLUXMM_DATA_DIR (default ../shared/data beside the checkout)."
    from cellfluxmm.core import l1000_dir as where
    d = where()
    if not (d/'lincs_a375_l1000.gctx').exists():
        pytest.skip(f"real L1000 files not found in {d}; set CELLFLUXMM_L1000_DIR to the folder holding lincs_a375_l1000.gct(x)")
    return d

EXE = Path(sys.executable).parent/'cellfluxmm'

def inproc(*args):
    "The command run in this process (its own code path and exit code, without a process start per case): rc, stdout, stderr."
    import contextlib, io, types
    from cellfluxmm.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main([str(a) for a in args])
        except SystemExit as e: rc = e.code
    return types.SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())

def _command(tmp, extra):
    return [EXE, 'reproduce', '--preset', 'smoke', '--data', tmp/'data', '--results', tmp/'results', '--figures', tmp/'figures', *extra]

def reproduce(tmp, *extra):
    "`cellfluxmm reproduce --preset smoke` into `tmp` (data/, results/, figures/); the finished process."
    return subprocess.run(_command(tmp, extra), capture_output=True, text=True, timeout=600)

class Background:
    "`reproduce` started now and waited for later, its output in files: both cores stay busy while another one runs."
    def __init__(self, tmp, *extra):
        self.tmp, self.args = tmp, _command(tmp, extra)
        self.out, self.err = open(tmp.parent/f'{tmp.name}.out', 'w+'), open(tmp.parent/f'{tmp.name}.err', 'w+')
        self.proc = subprocess.Popen(self.args, stdout=self.out, stderr=self.err, text=True)
    def result(self) -> subprocess.CompletedProcess:
        rc = self.proc.wait(timeout=600)
        out, err = (f.seek(0) or f.read() for f in (self.out, self.err))
        self.out.close(); self.err.close()
        return subprocess.CompletedProcess(self.args, rc, out, err)

_AGAIN = {}

@pytest.fixture(scope='session')
def smoke(tmp_path_factory, request):
    """One smoke reproduction (with the inverse steps) for every test that reads it: (folder, the command's result).
    Where the session holds a test of `again`, that second reproduction runs beside this one."""
    if any('again' in getattr(item, 'fixturenames', ()) for item in request.session.items):
        _AGAIN['run'] = Background(tmp_path_factory.mktemp('again'), '--variants', 'full')
    tmp = tmp_path_factory.mktemp('repro')
    return tmp, reproduce(tmp, '--inverse')

@pytest.fixture(scope='session')
def again(smoke):
    "The smoke reproduction's full model once more, in another folder (same commit, same machine): (folder, result)."
    run = _AGAIN['run']
    return run.tmp, run.result()

@pytest.fixture(scope='session')
def smoke_data(smoke):
    "The smoke reproduction's prepared data folder (store, autoencoders, latents), for tests that train on it."
    tmp, r = smoke
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp/'data'
