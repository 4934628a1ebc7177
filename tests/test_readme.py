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
