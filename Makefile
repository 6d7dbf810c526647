# The commands people type. Everything installs into .venv from the lock (uv.lock).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DOCS_PORT ?= 8080
DASHBOARD_PORT ?= 8501
# The Athena stand-in's engine (tests/standins/trino.py reads the same variable). 476 is the newest
# server tarball on Maven Central; later ones are on GitHub only.
TRINO_VERSION := 476
TRINO_SHA1 := c9b38be4017ebd2f7095455aaac772fb40247ebe
TUNELAKE_TRINO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tunelake/trino
TRINO_SERVER := $(TUNELAKE_TRINO_CACHE)/trino-server-$(TRINO_VERSION)
# Only the plugins the stand-in loads: each one costs start-up time, and iceberg alone is 425 MB.
TRINO_PLUGINS := iceberg

.DEFAULT_GOAL := help
.PHONY: help install install-dev trino-server system-deps browser demo test lint sources format docs docs-demo dashboard dashboard-demo sandbox bench lambda-build deploy smoke-snowflake smoke-athena smoke-trino clean clean-raw-zone

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact keeps uv itself, which is not a dependency of the project, in the environment.
# --compile-bytecode, as pip does: without .pyc files every dbt command compiles dbt's modules
# again (1.2 s of each command's 4 s start, measured on `dbt run` of one view).
install: $(BIN)/uv  ## Install tunelake and its pinned dependencies into .venv
	$(BIN)/uv sync --locked --inexact --compile-bytecode --no-default-groups --all-extras
	@test -f dbt_project/profiles.yml || cp profiles.example.yml dbt_project/profiles.yml

# The Snowflake stand-in (fakesnow) needs duckdb 2.0, which dlt 1.31 cannot use: it gets an
# environment of its own, locked in tests/standins/fakesnow/uv.lock, and runs as a server.
install-dev: $(BIN)/uv trino-server  ## Install the above plus test and lint tools and the Snowflake and Athena stand-ins
	$(BIN)/uv sync --locked --inexact --compile-bytecode --all-extras --group dev
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/.venv-fakesnow $(BIN)/uv sync --locked --quiet --project tests/standins/fakesnow
	@test -f dbt_project/profiles.yml || cp profiles.example.yml dbt_project/profiles.yml

# Once per machine, outside the repository: 783 MiB from Maven Central, checked against the pinned
# SHA-1, unpacked whole (plugins share jars through hard links), then every plugin but
# $(TRINO_PLUGINS) deleted, secrets plugins too. The folder appears in one rename: an interrupted
# run starts over.
trino-server: $(TRINO_SERVER)/bin/launcher  ## Download the Trino server (Athena stand-in) into TUNELAKE_TRINO_CACHE

$(TRINO_SERVER)/bin/launcher:
	@mkdir -p "$(TUNELAKE_TRINO_CACHE)"
	@echo "Downloading Trino $(TRINO_VERSION) (783 MiB, once) into $(TUNELAKE_TRINO_CACHE)"
	@curl --fail --location --retry 3 --progress-bar --output "$(TRINO_SERVER).tar.gz.part" \
		https://repo1.maven.org/maven2/io/trino/trino-server/$(TRINO_VERSION)/trino-server-$(TRINO_VERSION).tar.gz
	@echo "$(TRINO_SHA1)  $(TRINO_SERVER).tar.gz.part" | sha1sum --check --quiet
	@rm -rf "$(TRINO_SERVER).part" && mkdir "$(TRINO_SERVER).part"
	@tar -xzf "$(TRINO_SERVER).tar.gz.part" -C "$(TRINO_SERVER).part" --strip-components=1
	@echo "Keeping plugins: $(TRINO_PLUGINS)"
	@find "$(TRINO_SERVER).part/plugin" -mindepth 1 -maxdepth 1 $(foreach plugin,$(TRINO_PLUGINS),! -name $(plugin)) -exec rm -rf {} +
	@rm -rf "$(TRINO_SERVER).part/secrets-plugin"
	@rm -rf "$(TRINO_SERVER)" && mv "$(TRINO_SERVER).part" "$(TRINO_SERVER)" && rm "$(TRINO_SERVER).tar.gz.part"
	@echo "Trino $(TRINO_VERSION) is in $(TRINO_SERVER) ($$(du -sh "$(TRINO_SERVER)" | cut -f1))"

# Headless Chromium for the page tests (Debian packages; never a downloaded browser).
system-deps:  ## Install Debian's chromium and chromium-driver if missing (needs root or sudo)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "chromium and chromedriver present"; \
	else SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; fi

# Before make test and make bench, which need the browser: it installs it (root or passwordless sudo)
# or stops at once, exit 3, with the command to run (.ci/need-chromium; make itself then exits 2).
browser:  ## Check for headless Chromium (make test and make bench need it); install it if root or sudo allow
	@.ci/need-chromium "make $(or $(firstword $(filter test bench,$(MAKECMDGOALS))),browser)"

# Everything under data/demo/, whatever is configured: the demo reads and writes none of your settings or data.
demo: install  ## Run everything offline into data/demo/: sandbox API -> dlt -> raw zone + DuckDB -> dbt build + docs
	$(BIN)/tunelake demo

test: browser install-dev  ## Run the test suite (installs headless Chromium, or says how)
	$(BIN)/pytest

lint: install-dev  ## ruff for Python, mypy for the loader, sqlfluff for the dbt SQL
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	TUNELAKE_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint dbt_project/models

# The dbt sources YAML is generated from the raw tables' one declaration; a test fails on drift.
sources: install  ## Write dbt_project/.../_spotify__sources.yml from ingestion/spotify/tables.py
	$(BIN)/python -c "from ingestion.spotify.tables import SOURCES_YAML, sources_yaml; open(SOURCES_YAML, 'w').write(sources_yaml())"

format: install-dev  ## Fix what ruff and sqlfluff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	TUNELAKE_DUCKDB_PATH=:memory: $(BIN)/sqlfluff fix dbt_project/models

# Your project's docs (dbt_project/target); the demo's are apart (docs-demo). Never one for the other in silence.
docs: install  ## Serve the dbt docs of your warehouse on 127.0.0.1 (after tunelake dbt docs generate)
	@test -f dbt_project/target/catalog.json || { \
		if [ -f data/demo/dbt-target/catalog.json ]; then \
			echo "No docs of your warehouse yet (dbt_project/target/catalog.json): run '$(BIN)/tunelake dbt docs generate' after 'tunelake run'. The demo's docs are built: 'make docs-demo' serves them."; \
		else echo "No docs yet: run '$(BIN)/tunelake dbt docs generate' after 'tunelake run', or 'make demo' then 'make docs-demo'."; fi; exit 3; }
	$(BIN)/tunelake dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

docs-demo: install  ## Serve the demo's dbt docs on 127.0.0.1 (after make demo)
	@test -f data/demo/dbt-target/catalog.json || { echo "No demo docs yet (data/demo/dbt-target/catalog.json): run 'make demo' first."; exit 3; }
	$(BIN)/tunelake dbt --demo docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# Reads the configured warehouse (tunelake.warehouse, tunelake.duckdb_path); no usage statistics leave.
dashboard: install  ## Open the dashboard on 127.0.0.1:8501 over your warehouse's marts
	$(BIN)/tunelake dashboard --port $(DASHBOARD_PORT)

dashboard-demo: install  ## Open the dashboard on 127.0.0.1:8501 over the demo's marts (after make demo)
	$(BIN)/tunelake dashboard --demo --port $(DASHBOARD_PORT)

sandbox: install  ## Serve the Spotify sandbox API on 127.0.0.1:8765
	$(BIN)/tunelake sandbox

# About 8 minutes on 2 cores; the report goes to artifacts/bench-report.md (not committed).
bench: browser install  ## Run the benchmark suite and write its report (not part of make test)
	$(BIN)/uv sync --locked --inexact --compile-bytecode --all-extras --group bench
	$(BIN)/python -m benchmarks.report

# ARCH (arm64 or x86_64) defaults to lambda/template.yaml's; WAREHOUSE (athena or snowflake) to athena.
lambda-build: install  ## Build the Lambda artifact (build/lambda, build/lambda.zip) and print its size
	$(BIN)/python lambda/build.py $(if $(ARCH),--arch $(ARCH)) $(if $(WAREHOUSE),--warehouse $(WAREHOUSE))

# Needs an AWS account, its credentials and the SAM CLI (https://docs.aws.amazon.com/serverless-application-model/);
# `sam deploy --guided` asks for the parameters once and keeps them in samconfig.toml.
deploy: lambda-build  ## Deploy the scheduled ingestion with AWS SAM (real account; see README)
	@command -v sam >/dev/null || { echo "make deploy needs the AWS SAM CLI (sam) on PATH and AWS credentials; see README, 'Scheduled ingestion on AWS Lambda'."; exit 3; }
	sam deploy --guided --template-file lambda/template.yaml

# Real accounts only (credentials from the environment or .dlt/); they refuse, naming what is missing.
smoke-snowflake: install  ## Ingest from Spotify via S3 into Snowflake, then dbt build (real account)
	$(BIN)/tunelake smoke snowflake

smoke-athena: install  ## Ingest from Spotify via S3 into Athena/Glue, then dbt build (real account)
	$(BIN)/tunelake smoke athena

smoke-trino: install  ## Ingest from Spotify via S3 into Iceberg tables, then dbt build on your Trino
	$(BIN)/tunelake smoke trino

# Only what can be rebuilt: never data/raw (the only copy of older plays) nor your warehouse.
clean:  ## Remove dbt artifacts and the demo's data/demo/ (keeps .venv, your raw zone and warehouse)
	rm -rf data/demo dbt_project/target dbt_project/logs logs

clean-raw-zone: install  ## Delete your configured raw zone, after saying what is lost and asking
	$(BIN)/tunelake clean-raw-zone
