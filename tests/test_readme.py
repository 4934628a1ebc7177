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
