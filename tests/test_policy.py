import shutil
from pathlib import Path

from cobro_tui.i18n import set_language
from cobro_tui.policy import check_policy, default_policy_dir, load_policy, policy_hash


def _copy_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), folder)
    return folder


def test_the_shipped_policy_is_sound() -> None:
    assert check_policy(default_policy_dir()) == []
    policy = load_policy()
    assert [b.code for b in policy.buckets.buckets] == [
        "preventiva",
        "1-29",
        "30-59",
        "60-89",
        "90-119",
        "120+",
        "castigo",
    ]
    assert len(policy.config_hash) == 64


def test_every_error_is_reported_with_file_and_key(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    buckets = folder / "buckets.toml"
    buckets.write_text(
        buckets.read_text().replace("min_dpd = 30\n", "min_dpd = 31\n").replace('label_en = "Preventive"\n', "")
    )
    codes = folder / "result_codes.toml"
    codes.write_text(
        codes.read_text().replace("right_party_contact = true", 'right_party_contact = "yes"', 1)
        + '\n[[code]]\ncode = "PP"\nlabel_es = "x"\nlabel_en = "x"\nworked = true\nright_party_contact = true\nattempt = true\nchannels = ["fax"]\ncolour = 1\n'
    )
    problems = check_policy(folder)
    assert f"{buckets}: bucket[0].label_en: missing; expected text in quotes" in problems
    assert f"{codes}: code[0].right_party_contact: must be true or false, not 'yes'" in problems
    assert f"{codes}: code[14].code: 'PP' appears more than once" in problems
    assert any(f"{codes}: code[14].channels[0]: must be one of voice, sms" in p and "not 'fax'" in p for p in problems)
    assert any(f"{codes}: code[14].colour: is not a key of this table; its keys are: code," in p for p in problems)


def test_a_gap_between_buckets_is_explained(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    buckets = folder / "buckets.toml"
    buckets.write_text(buckets.read_text().replace("min_dpd = 30\n", "min_dpd = 31\n"))
    problems = check_policy(folder)
    assert any(
        "bucket[2].min_dpd: bucket '30-59' starts at 31 and leaves a gap after '1-29'" in p
        and "should start at 30" in p
        for p in problems
    )


def test_missing_files_and_folders_are_named(tmp_path: Path) -> None:
    set_language("en")
    assert "not a folder" in check_policy(tmp_path / "nowhere")[0]
    (tmp_path / "empty").mkdir()
    problems = check_policy(tmp_path / "empty")
    assert any("buckets.toml: missing" in p for p in problems)
    assert any("result_codes.toml: missing" in p for p in problems)


def test_the_policy_hash_changes_with_any_byte(tmp_path: Path) -> None:
    folder = _copy_policy(tmp_path)
    before = policy_hash(folder)
    codes = folder / "result_codes.toml"
    codes.write_text(codes.read_text() + "\n")
    assert policy_hash(folder) != before


def test_an_entry_that_is_not_a_table_is_named(tmp_path: Path) -> None:
    folder = _copy_policy(tmp_path)
    (folder / "buckets.toml").write_text("bucket = [1, 2]\n")
    problems = check_policy(folder)
    assert f"{folder / 'buckets.toml'}: bucket[0]: debe ser una tabla, no 1" in problems


def test_recovery_targets_and_promise_codes_are_checked(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    assert load_policy(folder).targets == {"norte": 90_000_000}
    targets = folder / "targets.toml"
    targets.write_text(
        '[[team]]\nteam = "norte"\nmonthly = 0\n\n[[team]]\nteam = "sur"\nmonthly = "mucho"\n'
        '\n[[team]]\nteam = "sur"\nmonthly = 5\nweekly = 1\n'
    )
    codes = folder / "result_codes.toml"
    shipped = codes.read_text()
    codes.write_text(shipped.replace('code = "NC"', 'code = "NC"\npromise = true', 1))
    problems = check_policy(folder)
    assert f"{targets}: team[0].monthly: must be above 0, not 0" in problems
    assert f"{targets}: team[1].monthly: must be a whole number, not 'mucho'" in problems
    assert any(f"{targets}: team[2].weekly: is not a key of this table" in p for p in problems)
    assert f"{targets}: team[2].team: 'sur' appears more than once" in problems
    assert any("code[8].promise: is true but right_party_contact is false" in p for p in problems)
    codes.write_text(shipped)
    before = policy_hash(folder)
    targets.unlink()  # the file may be left out: no targets, and the policy's hash says so
    assert load_policy(folder).targets == {} and policy_hash(folder) != before


def test_a_wrong_window_is_reported_alone_without_a_missing_windows(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    mx = folder / "rules" / "mx_condusef.toml"
    mx.write_text(mx.read_text().replace('end = "22:00"', 'end = "06:00"'))
    assert check_policy(folder) == [f"{mx}: windows.window[0].end: '06:00' must come after start '07:00'"]


def test_presets_and_overlays_must_name_each_other_rightly(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    in_force = folder / "contact_rules.toml"
    in_force.write_text(in_force.read_text().replace("overlays = []", 'overlays = ["us_ma", "mx_condusef", "cdmx"]'))
    wa = folder / "rules" / "us_wa.toml"
    wa.write_text(wa.read_text().replace('extends = "us_regf"', 'extends = "us_ma"'))
    assert check_policy(folder) == [
        f"{wa}: extends: 'us_ma' is an overlay on 'us_regf'; name a jurisdiction preset",
        f"{in_force}: overlays[0]: 'us_ma' extends 'us_regf', not the preset in force 'mx_condusef'",
        f"{in_force}: overlays[1]: 'mx_condusef' is a jurisdiction preset, not an overlay on 'mx_condusef'",
        f"{in_force}: overlays[2]: 'cdmx' is not a preset in rules/; known: co_ley2300, mx_condusef, us_ma, us_nyc, us_regf, us_wa",
    ]
    in_force.write_text('preset = "us_nyc"\n')
    assert f"{in_force}: preset: 'us_nyc' is an overlay on 'us_regf'; name a jurisdiction preset" in check_policy(
        folder
    )


def test_a_broken_bucket_file_still_checks_the_buckets_other_files_name(tmp_path: Path) -> None:
    set_language("en")
    folder = _copy_policy(tmp_path)
    buckets = folder / "buckets.toml"
    buckets.write_text(buckets.read_text().replace('label_en = "Preventive"\n', ""))
    offers = folder / "offers.toml"
    offers.write_text(offers.read_text().replace('"120+" = 20', "").replace("castigo = 30", '"castigo+" = "x"'))
    problems = check_policy(folder)
    assert f"{buckets}: bucket[0].label_en: missing; expected text in quotes" in problems
    assert any(p.startswith(f"{offers}: promise.max_days.\"castigo+\": 'castigo+' is not a bucket") for p in problems)
    assert f"{offers}: promise.max_days.\"castigo+\": must be a whole number, not 'x'" in problems


def test_a_spanish_user_reads_every_policy_error_in_spanish(tmp_path: Path) -> None:
    folder = _copy_policy(tmp_path)
    (folder / "problems.toml").write_text("[[problem]]\ncode = 1\nlabel = 'x'\n")
    (folder / "zones.toml").write_text('fallback = "Mars/Olympus"\n[states]\n"1" = "America/Mexico_City"\n')
    (folder / "priority.toml").write_text("version = 3\n")
    (folder / "targets.toml").write_text("team = []\n")
    (folder / "scripts" / "cobranza.toml").write_text("name = 'x'\nbuckets = 'all'\n[[step]]\nid = ''\n")
    (folder / "rules" / "us_ma.toml").write_text("extends = 'us_regf'\n[[cap]]\nid = ' '\nlimit = true\n")
    (folder / "offers.toml").write_text("calendar = 'ZZ'\npromise = 1\n[plan]\n")
    problems = check_policy(folder)
    assert len(problems) > 25
    for problem in problems:
        assert ": " in problem and "config_error" not in problem and "Input should" not in problem, problem
    assert f"{folder / 'problems.toml'}: problem[0].code: debe ser texto entre comillas, no 1" in problems
    assert f"{folder / 'problems.toml'}: problem[0].label_es: falta; se espera texto entre comillas" in problems
    assert f"{folder / 'zones.toml'}: states.1: '1' no es un código INEGI de 2 dígitos" in problems
    assert f"{folder / 'targets.toml'}: team: necesita al menos 1 elemento(s)" in problems
    assert (
        f"{folder / 'rules' / 'us_ma.toml'}: cap[0].counts: falta; se espera uno de attempts, conversations, channels"
        in problems
    )
