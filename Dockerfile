# syntax=docker/dockerfile:1

# The operator's image: dependencies are installed from the hash-locked requirements.lock into
# a virtualenv in a build stage, and only that virtualenv reaches the runtime stage.
#
# Both stages must use the same Python image: the virtualenv points at its interpreter.
# The digest pins the exact image; refresh it with
#   docker buildx imagetools inspect python:3.11-slim
# and keep it current with a dependency bot.
# TODO(user): refresh this digest before the first release, then let a bot keep it current.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7


FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Dependencies first, so that this layer is reused while only the operator's code changes.
# Wheels only: nothing is compiled, and every file is checked against the locks' hashes. The
# build backend comes from its own lock, so installing the package below fetches nothing.
COPY requirements.lock requirements-build.lock ./
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps --only-binary=:all: \
        -r requirements.lock -r requirements-build.lock

COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools


FROM ${PYTHON_IMAGE} AS runtime

# No package installer in the image that runs: pip, setuptools and ensurepip's bundled copies
# go. The user gets a passwd entry because some libraries look up the current user's name.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && rm -rf /usr/local/lib/python3.11/ensurepip /root/.cache \
    && groupadd --gid 65532 nonroot \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nonroot

COPY --from=build /opt/venv /opt/venv

# Nothing is written outside /tmp, which the Deployment mounts as an emptyDir, so the root
# filesystem can be read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp

USER 65532:65532

# Exec form: Python is PID 1 and receives SIGTERM itself, so kopf can stop cleanly.
ENTRYPOINT ["/opt/venv/bin/staticsite-operator"]
CMD ["run"]
