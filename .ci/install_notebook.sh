#!/usr/bin/env bash
# Installs what tests/notebook_test.ts needs to run examples/publish_data.ipynb
# headless, and tests/notebook_restart_test.ts to drive the kernel through a
# restart (Python's jupyter_client: python3-jupyter-client, which jupyter-client
# pulls in, named for that test): Debian's jupyter, nbconvert and nbclient,
# and Deno's kernelspec for the current user. Idempotent: installs only what is missing, and exits 0
# when everything is already there. Needs deno on PATH (.ci/run installs it).
set -euo pipefail

packages=(jupyter-nbconvert python3-nbclient jupyter-client python3-jupyter-client)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "apt: ${packages[*]} already installed"
else
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "apt: ${missing[*]} missing, and neither root nor sudo to install them" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "apt: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  # --no-install-recommends: nbconvert recommends pandoc, which executing a
  # notebook does not need.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v deno >/dev/null 2>&1; then
  echo "deno is not on PATH: install it first" >&2
  exit 1
fi
deno_path=$(command -v deno)

# The kernelspec names the deno binary it runs; reinstall it when it is
# missing or names another binary than the deno on PATH.
kernel_deno=$(
  jupyter kernelspec list --json 2>/dev/null | python3 -c '
import json, sys
spec = json.load(sys.stdin).get("kernelspecs", {}).get("deno")
print(spec["spec"]["argv"][0] if spec else "")
' || true
)
if [ -n "$kernel_deno" ] &&
  [ "$(readlink -f "$kernel_deno")" = "$(readlink -f "$deno_path")" ]; then
  echo "jupyter: deno kernelspec already installed (runs $kernel_deno)"
else
  echo "jupyter: installing the deno kernelspec for $deno_path${kernel_deno:+ (it ran $kernel_deno)}"
  if ! out=$(deno jupyter --install --force 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  grep -v '"deno jupyter" is unstable' <<<"$out" || true
fi

if ! jupyter nbconvert --version >/dev/null 2>&1; then
  echo "jupyter nbconvert does not run after the install" >&2
  exit 1
fi
# Captured first: grep -q closing the pipe early would fail under pipefail.
kernels=$(jupyter kernelspec list 2>/dev/null || true)
if ! grep -qE '^ +deno +' <<<"$kernels"; then
  echo "the deno kernelspec is not listed after the install" >&2
  exit 1
fi
echo "notebook test prerequisites: ok"
