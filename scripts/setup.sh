#!/usr/bin/env bash
# Prepares a Debian machine to develop, test and run Keyward. Idempotent: each step runs only
# when its result is missing or stale, so CI can call it on every run.
#   - redis-server, Java, Maven and chromium from apt (only the ones missing);
#   - the MongoDB-wire launcher in tools/mongo-wire, built with Maven when its jar is missing;
#   - stripe-mock (Stripe's API mock, for tests of Stripe API reads) and vegeta (the benchmarks'
#     constant-rate load generator) with `go install`, when missing;
#   - node_modules via `npm ci` when missing or older than package-lock.json.
# Needs root (or sudo) for apt-get, and network access to the Debian, Maven and npm registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root to run: $*" >&2
    exit 1
  fi
}

apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then
    as_root apt-get update
    apt_updated=yes
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "Node.js 20.19+ with npm is required and was not found on PATH" >&2
  exit 1
fi

if command -v redis-server >/dev/null 2>&1; then
  say "redis-server present ($(redis-server --version | cut -d' ' -f3))"
else
  say "installing redis-server"
  apt_install redis-server
fi

launcher_jar=tools/mongo-wire/target/mongo-wire-1.0.0.jar
launcher_libs=tools/mongo-wire/target/lib
if ! command -v java >/dev/null 2>&1; then
  say "installing a Java runtime for the MongoDB-wire server"
  apt_install default-jre-headless
fi
if [ -f "$launcher_jar" ] && [ -d "$launcher_libs" ]; then
  say "MongoDB-wire launcher already built"
else
  if ! command -v mvn >/dev/null 2>&1; then
    say "installing Maven to build the MongoDB-wire launcher"
    apt_install maven default-jdk-headless
  fi
  say "building the MongoDB-wire launcher"
  mvn -q -B -f tools/mongo-wire/pom.xml package -DskipTests
fi

# The HTML abuse report's page test drives Debian's chromium through playwright-core (no browser
# download at install or run time).
if [ -x /usr/bin/chromium ]; then
  say "chromium present"
else
  say "installing chromium for the report page test"
  apt_install chromium
fi

# Go tools, built with `go install` when neither PATH nor $(go env GOPATH)/bin has them:
#   go_tool <binary> <module@version> <what for>
go_tool() {
  local binary=$1 module=$2 purpose=$3
  if command -v "$binary" >/dev/null 2>&1 || { command -v go >/dev/null 2>&1 && [ -x "$(go env GOPATH)/bin/$binary" ]; }; then
    say "$binary present"
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "installing Go to build $binary"
    apt_install golang-go
  fi
  say "installing $module into $(go env GOPATH)/bin ($purpose)"
  go install "$module"
}

# stripe-mock: tests look for it as STRIPE_MOCK_BIN, on PATH, then in $(go env GOPATH)/bin.
go_tool stripe-mock github.com/stripe/stripe-mock@v0.203.0 "Stripe API mock for the tests"
# vegeta: the constant-rate load generator of the latency benchmark (npm run bench), looked up
# the same way (VEGETA_BIN first). Tests do not need it.
go_tool vegeta github.com/tsenart/vegeta/v12@v12.13.0 "load generator for npm run bench"

# npm writes node_modules/.package-lock.json on every install; it is older than package-lock.json
# exactly when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci
else
  say "node_modules up to date"
fi
