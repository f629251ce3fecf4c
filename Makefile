# newsmon — set-up and everyday commands. Everything runs from the project's virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo run bench browse clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,web]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/newsmon demo

run: $(STAMP)
	$(BIN)/newsmon run

# make bench BENCH_ARGS="--quick"   (python -m bench --help lists the options)
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

browse: $(STAMP)
	$(BIN)/datasette data/news.db --metadata metadata.yml

clean:
	rm -rf $(VENV) build *.egg-info
