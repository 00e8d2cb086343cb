# backprop-course: one command per job. Each target creates .venv if needed and installs into it.
#   make demo    the instructor's job on the bundled sample class: release every assignment, grade
#                each class in parallel, print the grade table and where the feedback is
#   make train-demo  train networks on bundled data with the course package and print what they learned
#   make test    lint, then every test (unit, property, torch oracle when installed)
#   make bench   benchmarks against micrograd and PyTorch (prints ratios measured in the same run)
#   make notebooks  rebuild and execute the notebooks from notebooks/src/
#   make dashboard  the training dashboard as a web page of its own (Voila, http://localhost:8866)
#   make screenshots  regenerate the README's screenshots in docs/screenshots/ with a browser
#   make hub     (root) a class on a local JupyterHub: an instructor, two students, nbgrader's
#                exchange, on http://127.0.0.1:8000 (docs/hub.md)
#
# EXTRAS picks the optional dependencies: the default "dev" needs no PyTorch; CI uses
# EXTRAS=dev,torch so that gradients are also compared with torch.autograd.

PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= dev
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma  := ,
PYTEST_WORKERS ?= 2

.PHONY: install demo train-demo test lint format bench clean notebooks chromium dashboard \
	screenshots bubblewrap hub hub-proxy

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

demo: $(STAMP) bubblewrap
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m autograder demo

train-demo: $(STAMP)
	$(BIN)/python -m course.demo

lint: $(STAMP)
	$(BIN)/ruff check course autograder tests benchmarks tools hub
	$(BIN)/ruff format --check course autograder tests benchmarks tools hub

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
	--nbval-kernel-startup-timeout 180
# pytest runs two processes (and each notebook its own kernel): one BLAS thread each, or four
# threads fight over two cores and small matrix products slow down many times
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# unit, property, oracle and grading-pipeline tests; then every notebook executed and compared
# with nbval (strict), in a run of its own so that its kernels never start while nbgrader grades;
# then the browser suite (tests/browser): JupyterLab, Voila and nbgrader's Validate button driven
# in a headless Chromium, and (as root) a class on JupyterHub; screenshots of every step in
# build/browser-screenshots/
test: REQUIRE_BWRAP = 1
test: $(STAMP) lint chromium bubblewrap hub-proxy
	$(ONE_THREAD) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider \
		--ignore=tests/browser tests
	$(ONE_THREAD) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider \
		notebooks $(NBVAL)
	$(ONE_THREAD) $(BIN)/python -m pytest -p no:cacheprovider tests/browser

# the browser tests and screenshots drive Debian's Chromium (Playwright downloads no browser
# here): installed with apt when missing, or pass CHROMIUM=/path/to/chromium; with a font that
# has math tables (DejaVu Math TeX Gyre), which draws the feedback page's MathML
chromium:
	@test -n "$$CHROMIUM" || command -v chromium >/dev/null 2>&1 || \
		command -v chromium-browser >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "The browser tests need Chromium: install it as root (Debian/Ubuntu:" \
			"apt-get install chromium) or pass CHROMIUM=/path/to/chromium." >&2; exit 1; fi; \
		command -v apt-get >/dev/null 2>&1 || { echo "The browser tests need Chromium:" \
			"install it with your package manager or pass CHROMIUM=/path/to/chromium." >&2; \
			exit 1; }; \
		echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends \
			chromium fonts-dejavu-core fonts-dejavu-extra; }

# grading runs every student's kernel in an OS sandbox made with bubblewrap (and util-linux's
# setpriv and prlimit): installed with apt when missing. Without it grading falls back to weaker
# isolation and says so (autograder/SECURITY.md); `make test` needs it (REQUIRE_BWRAP=1).
bubblewrap:
	@command -v bwrap >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1 && \
		command -v prlimit >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1 && \
			sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
		if [ "$$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then \
			echo "Grading sandboxes student code with bubblewrap, which is not installed:" \
				"install it as root (Debian/Ubuntu: apt-get install bubblewrap util-linux)." >&2; \
			[ "$(REQUIRE_BWRAP)" != 1 ] || exit 1; \
		else \
			echo "Installing bubblewrap for the grading sandbox (apt-get install bubblewrap)"; \
			$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends \
				bubblewrap util-linux; \
		fi; }

# JupyterHub's proxy, configurable-http-proxy, from npm into build/hub/ (JupyterHub itself is a
# Python dependency); needs node and npm
CHP_VERSION := 5.3.0
CHP := build/hub/node_modules/.bin/configurable-http-proxy
hub-proxy: $(CHP)

$(CHP):
	@command -v npm >/dev/null 2>&1 || { echo "JupyterHub's proxy (configurable-http-proxy) is" \
		"installed with npm: install Node.js and npm (Debian: apt-get install nodejs npm)." >&2; \
		exit 1; }
	npm install --prefix build/hub --no-save --no-audit --no-fund --loglevel=error \
		configurable-http-proxy@$(CHP_VERSION)
	@test -x $@ && touch $@

# a class on a local JupyterHub for a try-out (root: it creates the accounts); Ctrl-C ends it
hub:
	@if [ "$$(id -u)" != 0 ]; then echo "make hub creates Unix accounts (an instructor and two" \
		"students) and runs each one's server as that user: run it as root (sudo make hub)." \
		"See docs/hub.md." >&2; exit 1; fi
	$(MAKE) install hub-proxy bubblewrap
	$(BIN)/python hub/classroom.py

# the training dashboard alone on a web page; Voila prints its address (port 8866)
dashboard: $(STAMP)
	$(BIN)/voila dashboard/dashboard.ipynb

screenshots: $(STAMP) chromium
	$(ONE_THREAD) $(BIN)/python tools/screenshots.py

notebooks: $(STAMP)
	$(BIN)/python tools/nbbuild.py

format: $(STAMP)
	$(BIN)/ruff format course autograder tests benchmarks tools hub
	$(BIN)/ruff check --fix course autograder tests benchmarks tools hub

bench:
	$(MAKE) install EXTRAS=dev,torch
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
