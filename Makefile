# Control-machine commands. Every step of `setup` is skipped when already done.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= /usr/bin/python3
# The shared apt cache of test containers; .config/molecule/config.yml and tools/demo.sh name the same place.
CACHE := $(HOME)/.cache/djangoops
IMAGES ?= debian12 debian13
# Scenarios to run; default: every directory under molecule/ but `collection` (run by `make collection`),
# the longest first: tools/run-scenarios.sh runs DJANGOOPS_JOBS (2) at a time, in this order, so that the
# last ones, which may run alone, are short (the suite is CPU-bound on 2 cores).
LONGEST_SCENARIOS := cluster failures site project_startproject project_srclayout python_venv backup app_code
SCENARIOS ?= $(LONGEST_SCENARIOS) $(filter-out collection $(LONGEST_SCENARIOS),$(notdir $(patsubst %/,%,$(dir $(wildcard molecule/*/molecule.yml)))))
# Scenarios with platforms of their own already run Debian 12 and 13 (project_srclayout: 13 only, beside
# project_startproject on 12); the others run 13 in test-matrix.
MULTI_PLATFORM := postgresql cluster firewall shared_files project_srclayout backup
APT_PACKAGES := podman runc debootstrap uidmap fuse-overlayfs slirp4netns python3-venv git openssl curl openssh-client chromium chromium-driver libnss3-tools

export CONTAINERS_CONF := $(CURDIR)/.config/containers.conf
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles

.PHONY: help setup apt venv images lint pytest docs test-example molecule collection test test-matrix demo demo-clean bench

help:
	@echo "make demo          provision a local container with site.yml and serve the example over HTTPS"
	@echo "make demo-clean    remove the demo container and its state"
	@echo "make setup         apt packages, the toolchain venv, the test images"
	@echo "make lint          yamllint, ruff (lint and format check), ansible-lint (production profile)"
	@echo "make test          lint, pytest on tests/, the example's tests, every Molecule scenario"
	@echo "make docs          regenerate the variables tables of roles/*/README.md from meta/argument_specs.yml"
	@echo "make molecule SCENARIOS='nginx postgresql'   some scenarios only"
	@echo "make collection    build and install the collection, use it by full names, run its scenario"
	@echo "make test-matrix   every scenario on Debian 12 and on Debian 13"
	@echo "make bench         each playbook against its floor, the site against Gunicorn alone: a table"

setup: apt venv images

apt:
	@if dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | grep -vq 'install ok installed' \
	   || [ "$$(dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | wc -l)" -ne "$(words $(APT_PACKAGES))" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  echo "apt: installed $(APT_PACKAGES)"; \
	else echo "apt: packages already installed"; fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints.txt
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

images:
	mkdir -p $(addprefix $(CACHE)/apt-,$(IMAGES))
	for image in $(IMAGES); do tools/build-image.sh $$image; done

lint: venv
	yamllint --strict .
	ruff check .
	ruff format --check .
	ansible-lint

pytest: venv
	tools/pytest-strict.sh tests

docs: venv
	tools/role_docs.py

test-example:
	bash example/run-tests.sh

molecule: venv images
	tools/run-scenarios.sh $(SCENARIOS)

collection: venv images
	tools/test-collection.sh

# The checks and the collection run as jobs among the scenarios (tools/run-scenarios.sh, two at a time): run
# before them, they would keep the second core idle for their 10 minutes.
TEST_JOBS = $(filter $(LONGEST_SCENARIOS),$(SCENARIOS)) make:pytest make:lint make:collection make:test-example \
  $(filter-out $(LONGEST_SCENARIOS),$(SCENARIOS))

test: setup
	tools/run-scenarios.sh $(TEST_JOBS)

# Every role's scenario on Debian 13 too: longer than CI's budget, run before a release.
test-matrix: venv images
	tools/run-scenarios.sh $(SCENARIOS)
	DJANGOOPS_DISTRO=debian13 tools/run-scenarios.sh $(filter-out $(MULTI_PLATFORM),$(SCENARIOS))

# Not part of `make test`: it prints figures (about 10 minutes), it asserts nothing.
bench: venv images
	tools/bench.py

demo: setup
	tools/demo.sh up

demo-clean:
	tools/demo.sh down
