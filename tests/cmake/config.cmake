# config.cmake — CLI tests of `baleen config` (core/cmd_config.c) through the real binary.
# Fixtures live in tests/data/config/. Each test checks the exit code, the stream the
# message goes to (errors on stderr only, the resolved config on stdout only) and its text.

set(BL_CFG_DATA ${CMAKE_SOURCE_DIR}/tests/data/config)
set(BL_CFG_EXPECT ${CMAKE_CURRENT_BINARY_DIR}/bl_config_expect.sh)
# bl_config_expect.sh WANT_RC STREAM REGEX CMD...: pass when CMD exits WANT_RC, STREAM
# (stdout|stderr) matches the extended REGEX and the other stream is empty.
file(WRITE ${BL_CFG_EXPECT} [=[
want=$1; stream=$2; regex=$3; shift 3
dir=$(mktemp -d) || exit 1
"$@" >"$dir/stdout" 2>"$dir/stderr"; rc=$?
echo "--- stdout"; cat "$dir/stdout"; echo "--- stderr"; cat "$dir/stderr"
if [ "$stream" = stdout ]; then other=stderr; else other=stdout; fi
fail=0
[ "$rc" -eq "$want" ] || { echo "FAIL: exit code $rc, expected $want"; fail=1; }
grep -Eq -- "$regex" "$dir/$stream" || { echo "FAIL: $stream does not match: $regex"; fail=1; }
[ -s "$dir/$other" ] && { echo "FAIL: unexpected output on $other"; fail=1; }
rm -rf "$dir"
exit $fail
]=])

function(bl_config_cli name want_rc stream regex)
  add_test(NAME cli_config_${name}
           COMMAND sh ${BL_CFG_EXPECT} ${want_rc} ${stream} ${regex} $<TARGET_FILE:baleen> ${ARGN})
  set_tests_properties(cli_config_${name} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli)
endfunction()

# success: the resolved config on stdout, exit 0
bl_config_cli(check_valid 0 stdout "    n_mels: 128" config check ${BL_CFG_DATA}/valid.yaml)
bl_config_cli(check_valid_list 0 stdout "aggregates: \\[max, p90\\]" config check ${BL_CFG_DATA}/valid.yaml)
bl_config_cli(check_set 0 stdout "  hop_length: 512" config check ${BL_CFG_DATA}/valid.yaml
              --set frontend.hop_length=512)
bl_config_cli(check_set_list 0 stdout "aggregates: \\[top3_mean\\]" config check ${BL_CFG_DATA}/valid.yaml
              --set=pooling.aggregates=[top3_mean])
bl_config_cli(check_example_full 0 stdout "^runtime:" config check ${CMAKE_SOURCE_DIR}/configs/example-full.yaml)
bl_config_cli(defaults 0 stdout "^model: models/zoo/whalecall-small$" config defaults)
bl_config_cli(keys 0 stdout "^frontend.mel.n_mels$" config keys)
bl_config_cli(keys_markdown 0 stdout "^[|] `frontend.n_fft` [|] int \\[16, 65536\\] [|] `1024` [|]" config keys --markdown)
bl_config_cli(help 0 stdout "examples:" config --help)

# config errors: one message on stderr naming file:line:column and the key, exit 1
bl_config_cli(bad_type 1 stderr
              "bad_type.yaml:3:10: frontend.n_fft: expected an integer in \\[16, 65536\\], got \"abc\""
              config check ${BL_CFG_DATA}/bad_type.yaml)
bl_config_cli(unknown_key 1 stderr
              "unknown_key.yaml:2:3: frontend.hop_lenght: unknown key \\(did you mean 'frontend.hop_length'[?]\\)"
              config check ${BL_CFG_DATA}/unknown_key.yaml)
bl_config_cli(syntax 1 stderr "syntax.yaml:3:2: YAML syntax error: did not find expected key"
              config check ${BL_CFG_DATA}/syntax.yaml)
bl_config_cli(cross 1 stderr "cross.yaml:2:14: events.threshold_off: must be <= events.threshold \\(0.3\\), got 0.35"
              config check ${BL_CFG_DATA}/cross.yaml)
bl_config_cli(set_error 1 stderr
              "^baleen: error: config check: --set frontend.n_fft=abc: frontend.n_fft: expected an integer"
              config check ${BL_CFG_DATA}/valid.yaml --set frontend.n_fft=abc)
bl_config_cli(set_unknown 1 stderr "--set frontend.mel.nmels=3: frontend.mel.nmels: unknown key \\(did you mean 'frontend.mel.n_mels'"
              config check ${BL_CFG_DATA}/valid.yaml --set frontend.mel.nmels=3)
bl_config_cli(missing_file 1 stderr "config .*nope.yaml: no such file"
              config check ${BL_CFG_DATA}/nope.yaml)
bl_config_cli(no_file 1 stderr "missing FILE" config check)
bl_config_cli(bad_subcommand 1 stderr "unknown subcommand" config frob)
bl_config_cli(bad_option 1 stderr "unknown option --frob" config check ${BL_CFG_DATA}/valid.yaml --frob)

# the printed config loads back and prints the same
add_test(NAME cli_config_round_trip
         COMMAND sh -c "\"$0\" config check \"$1\" > \"$2\" && \"$0\" config check \"$2\" | cmp - \"$2\""
                 $<TARGET_FILE:baleen> ${BL_CFG_DATA}/valid.yaml ${CMAKE_CURRENT_BINARY_DIR}/config_round_trip.yaml)
set_tests_properties(cli_config_round_trip PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli)
