"Same numbers on every run: a second reproduction in another folder is byte-identical, and the check names a planted change."
import json, subprocess, sys
from pathlib import Path
import pandas as pd
from conftest import EXE

def check(new, ref):
    return subprocess.run([EXE, 'check', new, '--reference', ref], capture_output=True, text=True, timeout=300)

def test_another_folder_gives_identical_hashes_and_table(smoke, again):
    (a, ra), (b, rb) = smoke, again
    assert ra.returncode == 0 and rb.returncode == 0, rb.stdout[-2000:] + rb.stderr[-2000:]
    pa, pb = (json.loads((x/'figures'/'table1_provenance.json').read_text()) for x in (a, b))
    assert set(pa['runs']['full']['artifacts']) >= {'store', 'image_ae', 'gene_ae', 'extractor', 'latents', 'checkpoint', 'scores'}
    assert pb['runs']['full']['artifacts'] == pa['runs']['full']['artifacts']   # every artifact and the scores, byte for byte
    assert pa['environment']['torch']['deterministic'] and pa['environment']['lock']
    r = check(b/'figures', a/'figures')
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'artifacts: identical in all 1 runs' in r.stdout and 'numbers: identical' in r.stdout
    t1a, t1b = (pd.read_csv(x/'figures'/'table1.csv', index_col=0) for x in (a, b))
    assert t1b.loc['CellFluxMM (full)'].equals(t1a.loc['CellFluxMM (full)'])

def test_check_names_a_changed_autoencoder_first(smoke, tmp_path):
    "A planted change, the image autoencoder trained at another learning rate, is traced to the autoencoder, not beyond."
    from cellfluxmm.steps import paper_notebooks, run_notebook
    from cellfluxmm.evaluate import evaluate
    from cellfluxmm.configs import get_preset
    from cellfluxmm.prepare import build_run, prepare
    from cellfluxmm.train import train
    a, _ = smoke
    pr = get_preset('smoke')
    planted = pr.replace(vae_train=pr.vae_train.replace(lr=pr.vae_train.lr / 2))
    prep = prepare(planted, tmp_path/'data', progress=False, log=None)
    train(build_run(prep, 'full'), prep, tmp_path/'results'/'full', progress=False, log=lambda *x: None)
    evaluate(tmp_path/'results'/'full', prep, tmp_path/'results'/'full'/'eval', planted.eval, progress=False)
    run_notebook(paper_notebooks()/'table1.ipynb', tmp_path/'table1.ipynb',
                 {'results_dir': str(tmp_path/'results'), 'out_dir': str(tmp_path/'figures'), 'preset': 'custom'})
    r = check(tmp_path/'figures', a/'figures')
    assert 'first divergence at the image_ae of run full' in r.stdout and 'store matched' in r.stdout, r.stdout + r.stderr
    # a BLAS kernel planted in the new record is named beside the divergence (OpenBLAS's kernel choice, issue of bytes across machines)
    f = tmp_path/'figures'/'table1_provenance.json'; p = json.loads(f.read_text())
    lib = next(k for k, v in p['environment']['numeric']['libraries'].items() if v['internal_api'] == 'openblas')
    p['environment']['numeric']['libraries'][lib]['architecture'] = 'PlantedCore'; f.write_text(json.dumps(p))
    r = check(tmp_path/'figures', a/'figures')
    line = next((l for l in r.stdout.splitlines() if l.startswith('numeric environment differs (reference -> now): ')), '')
    assert f'libraries.{lib}.architecture: ' in line and '-> PlantedCore' in line, r.stdout
