"README.md starts with the front page nbs/index.ipynb, word for word (see 'The README and the docs')."
import json

def index_markdown(root):
    nb = json.loads((root/'nbs'/'index.ipynb').read_text())
    return '\n\n'.join(''.join(c['source']).strip() for c in nb['cells'] if c['cell_type'] == 'markdown')

def test_readme_starts_with_index(root):
    readme = (root/'README.md').read_text()
    head = readme.split('<!-- end of nbs/index.ipynb -->')[0].strip()
    assert head == index_markdown(root), "README.md's first part differs from nbs/index.ipynb: copy the index's markdown into README.md above '<!-- end of nbs/index.ipynb -->'"

def test_readme_names_the_two_commands(root):
    readme = (root/'README.md').read_text()
    assert 'make reproduce' in readme and 'make test' in readme

def test_ci_runs_the_readme_command(root):
    assert 'make test' in (root/'.ci'/'run').read_text()

def test_readme_results_come_from_the_committed_tables(root):
    "The README's results summary is what `cellfluxmm summary` writes from the committed figures/table1_versus.csv."
    from cellfluxmm.figures import SUMMARY_END, SUMMARY_START, results_summary
    readme = (root/'README.md').read_text()
    assert SUMMARY_START in readme and SUMMARY_END in readme, 'README.md lost its results summary block'
    block = readme.split(SUMMARY_START, 1)[1].split(SUMMARY_END, 1)[0].strip()
    assert block == results_summary(root/'figures'), "README.md's results summary differs from the committed tables: run `cellfluxmm summary`"

def test_readme_is_reference_sized(root):
    assert len((root/'README.md').read_text().splitlines()) <= 300

def test_every_number_in_the_readme_results_is_in_a_committed_file(root):
    "Each decimal number the README's results state (prose and summary) appears, as written, in a committed file under figures/."
    import re
    readme = (root/'README.md').read_text()
    results = readme.split('## Results on the demo', 1)[1].split('\n## ', 1)[0]
    committed = '\n'.join(p.read_text(errors='ignore') for p in (root/'figures').rglob('*')
                          if p.is_file() and p.suffix in ('.md', '.csv', '.txt', '.log', '.json'))
    numbers = set(re.findall(r'(?<![\w.])-?\d+\.\d+(?![\w.])', results))
    missing = sorted(n for n in numbers if n not in committed and n.lstrip('-') not in committed)
    assert numbers and not missing, f"README results state numbers that no committed file under figures/ holds: {missing}"

import pytest

@pytest.mark.parametrize('preset, study', [('l1000', 'real_l1000_choices'), ('profiles', 'real_profiles_choices')])
def test_the_real_data_presets_hold_the_choices_of_their_validation_studies(root, preset, study):
    "The `l1000` and `profiles` presets' settings are the ones figures/<study>.csv chose on development seeds' validation data."
    import pandas as pd
    from cellfluxmm.l1000 import preset_setting
    from cellfluxmm.configs import get_preset
    t = pd.read_csv(root/'figures'/f'{study}.csv')
    chosen = t[t.chosen]
    assert sorted(chosen.factor) == sorted(set(t.factor)), 'one chosen value per factor'
    pr = get_preset(preset)
    wrong = {f: (v, preset_setting(pr, f)) for f, v in zip(chosen.factor, chosen.value) if str(v) != str(preset_setting(pr, f))}
    assert not wrong, f"the {preset} preset differs from its validation study's choices (factor: (chosen, preset)): {wrong}"

def test_the_demo_preset_samples_with_the_sampler_its_validation_study_chose(root):
    "The `demo` preset's solver and steps are the row figures/sampler_steps.csv marks chosen (on validation pairs)."
    import pandas as pd
    from cellfluxmm.configs import get_preset
    t = pd.read_csv(root/'figures'/'sampler_steps.csv')
    assert 'chosen' in t, 'figures/sampler_steps.csv has no choice: rerun `make sampler`'
    chosen = t[t.chosen.astype(str) == 'True']
    assert len(chosen) == 1, 'the sampler study must choose exactly one sampler'
    ev = get_preset('demo').eval
    assert (ev.solver, ev.n_steps) == (chosen.solver.iloc[0], int(chosen.steps.iloc[0])), (
        f"the demo preset samples with {ev.solver} {ev.n_steps}; its validation study chose "
        f"{chosen.solver.iloc[0]} {int(chosen.steps.iloc[0])} (figures/sampler_steps.md)")

def test_the_demo_preset_trains_as_its_validation_study_chose(root):
    "The `demo` preset's training (steps, time sampling, learning rate and its schedule) is the row figures/train_speed.csv marks chosen."
    import pandas as pd
    from cellfluxmm.configs import get_preset
    from cellfluxmm.flow import FlowConfig
    pr = get_preset('demo')
    t = pd.read_csv(root/'figures'/'train_speed.csv')
    chosen = t[t.chosen.astype(str) == 'True']
    assert len(chosen) == 1, 'the training-speed study must choose exactly one run: rerun `make train-speed`'
    c = chosen.iloc[0]
    preset = (pr.train.steps, FlowConfig().time_sampling, pr.train.lr, pr.train.warmup, pr.train.decay)
    assert (int(c.steps), c.time_sampling, float(c.lr), int(c.warmup), c.decay) == preset, (
        f"the demo preset trains with {preset}; its validation study chose {c.run} (figures/train_speed.md)")

def test_the_inverse_calibration_is_the_one_its_validation_study_chose(root):
    "`inverse.CALIBRATE` is the weight whose calibrated model ranks best from both modalities in figures/inverse_val.md."
    import re
    from cellfluxmm.inverse import CALIBRATE
    rows = re.findall(r'^\| model(?:, calibrated ([\d.]+))? \| ([\d.]+) \|', (root/'figures'/'inverse_val.md').read_text(), re.M)
    assert len(rows) >= 2, 'figures/inverse_val.md holds no model rows: rerun `make inverse`'
    best = min(rows, key=lambda r: float(r[1]))
    assert float(best[0] or 0) == CALIBRATE, f"inverse_val.md chooses weight {best[0] or 0}, the library uses CALIBRATE = {CALIBRATE}"

def test_the_readme_real_data_section_comes_from_the_committed_files(root):
    "Every decimal number of the README's real-data section is in a committed figures/real_* file; the BBBC021 rows are the ones real_profiles' CSVs hold."
    import re
    import pandas as pd
    sec = (root/'README.md').read_text().split('\n## Real data', 1)[1].split('\n## ', 1)[0]
    committed = '\n'.join(p.read_text() for p in (root/'figures').glob('real_*') if p.suffix in ('.md', '.csv', '.log', '.json'))
    numbers = set(re.findall(r'(?<![\w.])[-+]?\d+\.\d+(?![\w.])', sec))
    missing = sorted(n for n in numbers if n not in committed and n.lstrip('+-') not in committed)
    assert numbers and not missing, f"README's real-data section states numbers no committed figures/real_* file holds: {missing}"
    st = pd.read_csv(root/'figures'/'real_profiles.csv').groupby('method').mean(numeric_only=True)
    d = pd.read_csv(root/'figures'/'real_profiles_differences.csv').set_index(['baseline', 'metric'])
    best = st.drop(index=['model', 'model_mean', 'ae_reconstruction']).mae.filter(regex='^(?!.*_ae$)').idxmin()
    r = d.loc[(best, 'mae')]
    row = next(l for l in sec.splitlines() if l.startswith('| BBBC021'))
    assert f"MAE {st.mae['model_mean']:.3f}" in row and f"{st.mae[best]:.3f}" in row, row
    assert f"{r.difference:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]" in row and ('model better' if r.better == 'model' else r.better) in row
    m = pd.read_csv(root/'figures'/'real_profiles_moa_summary.csv').set_index(['method', 'metric'])
    moa_row = next(l for l in sec.splitlines() if l.startswith('| the same, MoA'))
    assert f"NSC accuracy {m.loc[('model_mean', 'nsc'), 'mean']:.3f}" in moa_row, moa_row

def test_the_readme_real_cells_rows_are_the_committed_ones(root):
    "The README's BBBC021 single-cell rows: the model's FID, the strongest baseline's and their paired interval, from figures/real_cells*.csv."
    import pandas as pd
    from cellfluxmm.real_cells import pooled
    sec = (root/'README.md').read_text().split('\n## Real data', 1)[1].split('\n## ', 1)[0]
    sc = pooled(pd.read_csv(root/'figures'/'real_cells.csv'))
    d = pd.read_csv(root/'figures'/'real_cells_differences.csv').set_index(['split', 'metric', 'versus'])
    for split, start in (('dose', '| BBBC021 single cells, held-out dose'), ('plate (pooled)', '| BBBC021 single cells, held-out plates')):
        m = sc[(sc.split == split) & (sc.metric == 'FID')].groupby('method').value.mean()
        best = m.drop(index=[x for x in m.index if x.startswith('model') or x in ('real', 'reconstruction')]).idxmin()
        r = d.loc[(split, 'FID', best)]
        row = next(l for l in sec.splitlines() if l.startswith(start))
        assert f"FID {m['model']:.2f}" in row and f"{m[best]:.2f}" in row, row
        reading = 'model better' if r.high < 0 else 'model worse' if r.low > 0 else 'tie'
        assert f"{r.difference:+.2f} [{r.low:+.2f}, {r.high:+.2f}]" in row and reading in row, row
