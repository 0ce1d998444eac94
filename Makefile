# The whole set-up is `make demo` and `make test`; each creates .venv and installs into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck install schemas bench clean model fonts redis tools lock stack stack-down
MODEL_VERSION ?= $(shell date -u +%Y.%m.%d)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/scanscribe demo

lint: $(STAMP)
	$(BIN)/ruff check ocr schemas worker review tests bench
	$(BIN)/ruff format --check ocr schemas worker review tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The worker tests start a real redis-server; install it where it is missing (Debian, as root).
redis:
	command -v redis-server >/dev/null || (apt-get update && apt-get install -y redis-server)

# tests/test_deploy.py validates docker-compose.yml with `docker-compose config` (no engine
# needed); install the Debian package where it is missing. Unlike redis-server it is not
# fatal: where it cannot be installed (not Debian, not root) that one test skips and says why.
# The review application's browser tests drive Debian's headless Chromium through its own
# chromedriver (nothing is downloaded at test time); where they cannot be installed (not
# Debian, not root) those tests skip and say why.
tools: redis
	command -v docker-compose >/dev/null || (apt-get update && apt-get install -y docker-compose) \
	  || echo "docker-compose not installed: the compose validation test will skip"
	test -x /usr/bin/chromium -a -x /usr/bin/chromedriver \
	  || (apt-get update && apt-get install -y chromium chromium-driver) \
	  || echo "chromium not installed: the review browser tests will skip"

test: $(STAMP) tools lint typecheck
	$(BIN)/python -m pytest

schemas: $(STAMP)
	$(BIN)/python -m schemas.generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Printed capitals for training only (form labels); the runtime needs no fonts. Debian, as root.
FONTS_DIR ?= /usr/share/fonts/truetype
fonts:
	test -f $(FONTS_DIR)/dejavu/DejaVuSans.ttf -a -f $(FONTS_DIR)/liberation/LiberationSans-Regular.ttf \
	  || (apt-get update && apt-get install -y fonts-dejavu-core fonts-dejavu-extra fonts-liberation)

# Retrain the shipped model from ../shared/data (about 20 minutes on 2 quiet cores); see the model card.
DATA ?= ../shared/data
model: $(STAMP) fonts
	$(BIN)/scanscribe train \
	  --data emnist:$(DATA)/emnist/byclass-test \
	  --data chars74k:$(DATA)/chars74k/strokes-writers-00-39.json \
	  --data emnist:$(DATA)/emnist/balanced-slice/X_train_103680_to_112799.webp \
	  --data mat:$(DATA)/nist26/nist26_valid.mat \
	  --data fonts:$(FONTS_DIR) \
	  --members 2 --epochs 18 \
	  --name scanscribe-default --version $(MODEL_VERSION) --out ocr/models/default

# Pin the image's runtime dependencies from this venv (deploy/requirements.lock).
lock: $(STAMP)
	$(BIN)/python deploy/lock.py

# The docker-compose topology as plain processes (Redis, S3, worker, trainer, beat) for
# machines without Docker; pids, logs and settings in run/stack/. See README "Running the service".
stack: $(STAMP) redis
	deploy/stack.sh up

stack-down:
	deploy/stack.sh down
