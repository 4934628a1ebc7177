# The commands the README names. `make test` and `make reproduce` create .venv when it is missing,
# install the locked environment (lock/cpu.txt: every package at an exact version, checked by hash) only
# when the lock or the package's settings changed, and then run. `make lock` regenerates the lock files.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := lock/cpu.txt
# reinstall only when what pip reads changes (by content: nbdev_export rewrites pyproject.toml's timestamp)
DEPS_HASH := $(shell cat $(LOCK) settings.ini setup.py pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)
STAMP  := $(VENV)/.installed-$(DEPS_HASH)
PRESET ?= demo
export HF_HUB_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: lock install check test test-slow check-clean check-sync nbtest pytest reproduce inverse budget sampler guidance source train-speed precision profile real export outputs clean-nbs lab

install: $(STAMP)

# The lock holds the CPU build of torch (torch==2.13.0+cpu). Where the package index lacks it, name PyTorch's CPU
# index: make install PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
$(STAMP): $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the locked environment ($(LOCK)) into $(VENV) (first run takes a few minutes)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r $(LOCK) || { \
	  echo "FAILED to install $(LOCK). If torch==2.13.0+cpu was not found, add PyTorch's CPU index:"; \
	  echo "  make install PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu"; exit 1; }
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed*; touch $(STAMP)

# Regenerate the lock files with pip-tools (in a venv of their own): lock/cpu.txt for `make install`, lock/gpu.txt for
# environment.yaml (CUDA torch from PyPI). Pins already in a lock are kept; `make lock UPGRADE=1` moves them to the newest.
LOCK_VENV := .venv-lock
COMPILE = $(LOCK_VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade)
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install -q pip-tools==7.7.0; }
	$(COMPILE) --extra dev -o lock/cpu.txt setup.py lock/cpu.in
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(COMPILE) --extra dev --extra gpu \
	  -o lock/gpu.txt setup.py lock/gpu.in

# a fingerprint of every file below a folder, to see whether a tool changed any of them
fingerprint = find $(1) -type f -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum

check-clean: $(STAMP)
	@before=$$($(call fingerprint,nbs)); $(BIN)/nbdev_clean >/dev/null; after=$$($(call fingerprint,nbs)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAILED check 1/4 (clean notebooks): nbs/ held notebooks that were not clean."; \
	  echo "  nbdev_clean has now cleaned them: review 'git diff nbs/' and commit."; exit 1; fi; \
	echo "ok check 1/4: notebooks are clean"

check-sync: $(STAMP)
	@before=$$($(call fingerprint,cellfluxmm)); $(BIN)/nbdev_export; after=$$($(call fingerprint,cellfluxmm)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAILED check 2/4 (library in sync): cellfluxmm/ differed from what the notebooks export."; \
	  echo "  cellfluxmm/ is generated: make the change in nbs/, then run '$(BIN)/nbdev_export' and commit both"; \
	  echo "  (nbdev_export has now rewritten cellfluxmm/; 'git diff cellfluxmm/' shows what differed)."; exit 1; fi; \
	echo "ok check 2/4: cellfluxmm/ is what nbdev_export makes of nbs/"

# one notebook per core, each on one thread (1 min 1 s against 1 min 35 s one at a time on 2 cores; several threads
# per notebook oversubscribe the cores); not beside pytest: under that load the JupyterLab test's run of a notebook timed out
NB_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
nbtest: $(STAMP)
	@OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers $(NB_WORKERS) || { echo "FAILED check 3/4 (nbdev_test): a notebook cell raised; the notebook and cell are named above. Rerun one with '$(BIN)/nbdev_test --path nbs/NAME.ipynb'."; exit 1; }
	@echo "ok check 3/4: nbdev_test"

pytest: $(STAMP)
	@$(BIN)/python -m pytest -q tests/ || { echo "FAILED check 4/4 (pytest tests/): see the failures above; rerun one with '$(BIN)/python -m pytest tests/FILE -k NAME'."; exit 1; }
	@echo "ok check 4/4: pytest"

# the slow tests: the paper preset's code path rehearsed on the CPU (tests/test_paper_path.py, a few minutes)
test-slow: $(STAMP)
	CELLFLUXMM_SLOW=1 $(BIN)/python -m pytest -q tests/test_paper_path.py

test: $(STAMP)
	@$(MAKE) --no-print-directory check-clean
	@$(MAKE) --no-print-directory check-sync
	@$(MAKE) --no-print-directory nbtest
	@$(MAKE) --no-print-directory pytest

# whole-pipeline seeds 0..SEEDS-1 (autoencoders, feature extractor, model, draws); the committed tables use SEEDS=3
SEEDS ?= 1
reproduce: $(STAMP)
	$(BIN)/cellfluxmm reproduce --preset $(PRESET) --seeds $(SEEDS)

# after `make reproduce`: its Table 1 against the committed one (artifact hashes, then every number within tolerance)
check: $(STAMP)
	$(BIN)/cellfluxmm check figures

# after `make reproduce`: the model used backwards, per seed a model that never saw some test compounds (figures/inverse.*,
# figures/screen.md; the committed ones: SEEDS=3, 40-53 minutes of one core per seed with Heun 10, beside other work)
inverse: $(STAMP)
	$(BIN)/cellfluxmm reproduce --preset $(PRESET) --seeds $(SEEDS) --inverse

# after `make reproduce`: the full model on the class table and on compound features, and trained longer (figures/budget.*)
BUDGET_RUNS ?= [{cond: class, steps: 400}, {cond: features, steps: 400}, {cond: features, steps: 1200}]
budget: $(STAMP)
	$(BIN)/cellfluxmm study budget --preset $(PRESET) -p runs '$(BUDGET_RUNS)'

# after `make reproduce`: the image path from noise (the control read as a condition) and wider SiTs, beside the preset's run (figures/source.*)
SOURCE_RUNS ?= [{start: noise, steps: 1200}, {start: noise, steps: 4800}, {start: noise, steps: 1200, hidden: 256, depth: 6}, \
  {start: control, steps: 1200, hidden: 256, depth: 6}]
source: $(STAMP)
	$(BIN)/cellfluxmm study source --preset $(PRESET) -p runs '$(SOURCE_RUNS)'

# after `make reproduce`: the full model sampled with Euler and Heun at several step counts, on validation pairs (figures/sampler_steps.*)
SAMPLERS ?= [[euler, 5], [euler, 10], [euler, 20], [euler, 50], [heun, 5], [heun, 10]]
SAMPLER_PAIRS ?= 250
sampler: $(STAMP)
	$(BIN)/cellfluxmm study sampler_steps --preset $(PRESET) -p samplers '$(SAMPLERS)' -p pairs $(SAMPLER_PAIRS)

# after `make reproduce`: the full model sampled on the validation pairs at several guidance scales per modality (figures/guidance.*)
IMAGE_SCALES ?= [1, 1.2, 2, 3, 4, 6]
GENE_SCALES ?= [1, 1.2, 2, 3]
guidance: $(STAMP)
	$(BIN)/cellfluxmm study guidance --preset $(PRESET) -p image_scales '$(IMAGE_SCALES)' -p gene_scales '$(GENE_SCALES)'

# after `make reproduce`: the full model trained with the preset's settings (two training seeds) and with schedules of 60% of
# its steps (logit-normal times, warm-up and cosine decay, a larger learning rate), scored on validation pairs (figures/train_speed.*)
SPEED_RUNS ?= [{steps: 720}, {steps: 720, time_sampling: logit_normal}, {steps: 720, warmup: 60, decay: cosine}, \
  {steps: 720, warmup: 60, decay: cosine, lr: 0.002}, {steps: 720, time_sampling: logit_normal, warmup: 60, decay: cosine, lr: 0.002}]
train-speed: $(STAMP)
	$(BIN)/cellfluxmm study train_speed --preset $(PRESET) -p candidates '$(SPEED_RUNS)'

# after `make reproduce`: the full model sampled on the validation pairs in float32 and in bfloat16, one thread as the
# reproduction's evaluations (figures/precision.*)
precision: $(STAMP)
	$(BIN)/cellfluxmm study precision --preset $(PRESET) --threads 1

# after `make reproduce`: where 200 training steps and an evaluation of the validation pairs spend their time (figures/profile.*)
profile: $(STAMP)
	$(BIN)/cellfluxmm study profile --preset $(PRESET) --threads 1

# rerun the component notebooks and store their outputs (tables, pictures) for readers; after `make reproduce`
# the evaluation notebook shows the demo model beside its baselines too. One notebook: make outputs NBS=nbs/07_flow.ipynb
NBS ?= $(wildcard nbs/[0-9]*.ipynb)
outputs: $(STAMP)
	$(BIN)/cellfluxmm outputs $(NBS)
	@$(BIN)/nbdev_clean

export: $(STAMP)
	$(BIN)/nbdev_export

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean

# JupyterLab from the project's environment; works for root too (containers, rented GPU nodes)
LAB_PORT ?= 8888
lab: $(STAMP)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[lab]"
	@echo "JupyterLab on port $(LAB_PORT). On a remote node, forward the port from your machine first"
	@echo "  (ssh -L $(LAB_PORT):localhost:$(LAB_PORT) USER@NODE), then open the http://127.0.0.1:$(LAB_PORT)/lab?token=... URL printed below."
	$(BIN)/jupyter lab nbs/ --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The real data sets beside the clone ($CELLFLUXMM_DATA_DIR, default ../shared/data; the L1000 files also by
# CELLFLUXMM_L1000_DIR): for each present, the preset's settings scored on the development seeds' validation data, then the
# benchmark on the report seeds. The gene model on the real L1000 plate; the profile model on BBBC021's CellProfiler profiles;
# the image model on BBBC021's single cells.
real: $(STAMP)
	$(BIN)/cellfluxmm study real_l1000_choices
	$(BIN)/cellfluxmm study real_l1000
	$(BIN)/cellfluxmm study real_profiles_choices
	$(BIN)/cellfluxmm study real_profiles
	$(BIN)/cellfluxmm study real_cells_choices
	$(BIN)/cellfluxmm study real_cells
