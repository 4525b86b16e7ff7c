#!/usr/bin/env bash
# Every #include "folder/..." in src/ must point at the folder itself or a layer below it: the
# same arrows as the libraries' link lines in CMakeLists.txt (docs/architecture.md). Prints each
# wrong arrow as FILE:LINE and fails.
set -euo pipefail
cd "$(dirname "$0")/../src"

declare -A below=(
  [common]=""
  [compress]="common"
  [snapshot]="common"
  [arch]="common snapshot"
  [procfs]="common snapshot"
  [elf]="common snapshot"
  [output]="common compress snapshot"
  [minidump]="common compress snapshot arch procfs elf output"
  [elfcore]="common compress snapshot arch procfs elf output"
  [readers]="common compress snapshot arch procfs elf output minidump elfcore"
  [plan]="common compress snapshot arch output"
  [live]="common snapshot arch procfs elf"
  [capture]="common compress snapshot arch procfs elf output minidump elfcore readers plan live"
  [monitor]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture"
  [analysis]="common compress snapshot arch procfs elf output minidump elfcore readers"
  [diagnosis]="common compress snapshot arch procfs elf output minidump elfcore readers analysis"
  [api_read]="common compress snapshot arch procfs elf output minidump elfcore readers analysis"
  [api]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture monitor analysis api_read"
  [handler]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture monitor analysis api_read api"
  [service]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture monitor analysis diagnosis"
  [cli]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture monitor analysis diagnosis service"
  [analysis_helper]="common compress snapshot arch procfs elf output minidump elfcore readers plan live capture monitor analysis diagnosis service"
)

status=0
for dir in */; do
  layer=${dir%/}
  if [[ -z ${below[$layer]+set} ]]; then
    echo "src/$layer: not in the layer table of tests/layers_test.sh" >&2
    status=1
    continue
  fi
  allowed=" $layer ${below[$layer]} "
  while IFS=: read -r file line target; do
    [[ -n $file ]] || continue
    if [[ $allowed != *" $target "* ]]; then
      echo "src/$file:$line: $layer must not include $target/ (allowed: ${below[$layer]:-nothing})" >&2
      status=1
    fi
  done < <(grep -rnoE '^#include "[a-z_]+/' "$layer" | sed -E 's@#include "([a-z_]+)/@\1@')
done
[[ $status == 0 ]] && echo "every include follows the layers"
exit $status
