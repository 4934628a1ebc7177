"JupyterLab as a user meets it: served from the project's environment, a notebook opened and run to the end in headless Chromium."
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

CHROMIUM = os.environ.get('CELLFLUXMM_CHROMIUM', '/usr/bin/chromium')
NOTEBOOK = Path(__file__).resolve().parents[1]/'nbs'/'00_core.ipynb'   # small: runs in seconds
JUPYTER = Path(sys.executable).parent/'jupyter'
# a closed network: without these, Chromium keeps trying to reach its update and sync services
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f'Chromium is not at {CHROMIUM} (Debian: apt-get install chromium; or set CELLFLUXMM_CHROMIUM)'
    try: import playwright  # noqa: F401
    except ImportError: return 'playwright is not installed (pip install -e ".[dev]")'
    if not JUPYTER.exists() or subprocess.run([JUPYTER, 'lab', '--version'], capture_output=True).returncode:
        return 'JupyterLab is not installed in this environment (pip install -e ".[dev]")'
    return None

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on localhost, serving a copy of the notebook: (base url, token, notebook path)."
    why = _missing()
    if why: pytest.skip(why)
    nb = tmp_path/NOTEBOOK.name
    shutil.copy(NOTEBOOK, nb)
    port, token = _free_port(), 'cellfluxmm-test'
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'JUPYTER_CONFIG_DIR': str(tmp_path/'cfg'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'rt')}
    cmd = [JUPYTER, 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', f'--IdentityProvider.token={token}',
           f'--ServerApp.root_dir={tmp_path}', '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    if os.geteuid() == 0: cmd.append('--allow-root')
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path/'lab.log', 'w'))
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=1); break
            except OSError: time.sleep(0.5)
        else: pytest.fail('JupyterLab did not start within a minute:\n' + (tmp_path/'lab.log').read_text()[-2000:])
        yield base, token, nb
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()

def test_notebook_runs_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    base, token, nb = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.goto(f'{base}/lab/tree/{nb.name}?token={token}')
        page.wait_for_selector('.jp-NotebookPanel .jp-Cell', timeout=90_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)  # kernel ready
        page.locator('.jp-NotebookPanel .jp-Cell').first.click()
        page.locator('.lm-MenuBar-item', has_text='Run').first.click()           # the Run menu
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        # every code cell has run when none shows [*] and the last one has an execution count
        page.wait_for_function(
            """() => { const p = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
                       return p.length && p.every(e => !e.textContent.includes('*')) && /\\[\\d+\\]/.test(p[p.length - 1].textContent); }""",
            timeout=240_000)
        page.keyboard.press('Control+s')                           # save: the file on disk is what is checked
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
        browser.close()
    cells = [c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    assert all(c['execution_count'] for c in cells), 'the saved notebook has cells that did not run'
    errors = [f"{o['ename']}: {o['evalue']}" for c in cells for o in c['outputs'] if o['output_type'] == 'error']
    assert not errors, f'cells raised in JupyterLab: {errors}'
