"The library's import graph is layered: no module imports one from a layer above it, at the top of the file or inside a function."
import ast
from pathlib import Path
import cellfluxmm

LAYERS = [('core', 'provenance'), ('data', 'synthetic', 'readers', 'profiles', 'crops'), ('autoencoders', 'sit'), ('flow', 'sampler'), ('metrics', 'readout', 'gene_baselines'),
          ('configs',), ('prepare', 'checkpoints'), ('train', 'evaluate', 'figures', 'predict'), ('inverse', 'l1000', 'real_profiles', 'real_cells'), ('steps',), ('pipeline',),
          ('cli', 'bench')]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}

def imports(path:Path) -> set[str]:
    "The cellfluxmm modules that a file imports anywhere (relative or absolute)."
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1: out.add(mod.split('.')[0])
            elif mod.startswith('cellfluxmm.'): out.add(mod.split('.')[1])
            elif mod == 'cellfluxmm': out.update(a.name for a in node.names if a.name in RANK)
        elif isinstance(node, ast.Import):
            out.update(a.name.split('.')[1] for a in node.names if a.name.startswith('cellfluxmm.'))
    return out

def graph() -> dict[str, set[str]]:
    lib = Path(cellfluxmm.__file__).parent
    return {p.stem: imports(p) - {p.stem} for p in sorted(lib.glob('*.py')) if not p.stem.startswith('_')}

def test_every_module_has_a_layer():
    assert set(graph()) == set(RANK), f"modules without a layer (add them to LAYERS): {set(graph()) ^ set(RANK)}"

def test_no_module_reaches_up():
    up = {m: sorted(d for d in deps if RANK[d] > RANK[m]) for m, deps in graph().items()}
    assert not any(up.values()), f"modules importing from a layer above: { {m: d for m, d in up.items() if d} }"

def test_evaluation_does_not_depend_on_training():
    g = graph()
    assert 'train' not in g['evaluate'] and 'evaluate' not in g['train']
    lib = Path(cellfluxmm.__file__).parent
    for m in LAYERS[2] + LAYERS[3]:   # the models, the flow and the samplers take arrays and tensors, never a store
        assert 'PackedStore' not in (lib/f'{m}.py').read_text(), m

def test_no_library_function_over_60_lines():
    "A reader can hold every function: none of the library's is longer than 60 lines (split long ones into named stages)."
    lib = Path(cellfluxmm.__file__).parent
    long = sorted((n.end_lineno - n.lineno + 1, f'{p.stem}.{n.name}') for p in lib.glob('*.py') if not p.stem.startswith('_')
                  for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and n.end_lineno - n.lineno + 1 > 60)
    assert not long, f"functions over 60 lines (lines, name): {long}"

def test_exported_cells_are_small():
    "One definition per exported cell: across the notebooks' exported cells the median is at most 12 lines, the 90th percentile 40."
    import json, numpy as np
    nbs = Path(cellfluxmm.__file__).parents[1]/'nbs'
    sizes = [len([l for l in ''.join(c['source']).splitlines() if l.strip()]) for p in sorted(nbs.glob('*.ipynb'))
             for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| export')]
    assert np.median(sizes) <= 12 and np.percentile(sizes, 90) <= 40, (
        f"exported cells: median {np.median(sizes):g}, 90th percentile {np.percentile(sizes, 90):g} lines (limits 12 and 40)")

def test_notebooks_numbered_bottom_up():
    "Each component notebook has a number of its own, and a module's notebook comes after those of the modules it imports."
    import json, re
    nbs = Path(cellfluxmm.__file__).parents[1]/'nbs'
    num, module = {}, {}
    for p in sorted(nbs.glob('[0-9]*.ipynb')):
        first = ''.join(json.loads(p.read_text())['cells'][0]['source'])
        module[re.match(r'#\| default_exp (\w+)', first).group(1)] = p.stem
        num.setdefault(p.stem.split('_')[0], []).append(p.stem)
    assert all(len(v) == 1 for v in num.values()), f"notebooks sharing a number: {[v for v in num.values() if len(v) > 1]}"
    early = sorted((module[m], module[d]) for m, deps in graph().items() for d in deps if module[d] > module[m])
    assert not early, f"notebooks numbered before a module they import (notebook, import): {early}"
