# Two commands for a newcomer: `make demo` (`make demo PORT=8090` for another port) and `make test`.
# Both set up .venv on first use.
PYTHON ?= python3
PORT ?= 8081
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test

demo: $(STAMP)
	$(VENV)/bin/auylnet demo --port $(PORT)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)
