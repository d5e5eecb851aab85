"""A run folder's config.toml is a file read from disk: resuming never imports the user module
it names unless the user names it again (--model)."""
import subprocess
import sys

import tomli_w


def _run_folder(tmp_path, model_name):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(tomli_w.dumps({"model": {"name": model_name}}))
    (run / "status.json").write_text('{"complete": false, "stage": "start"}')
    return run


def test_resume_does_not_import_a_module_the_config_names(tmp_path):
    pkg = tmp_path / "mods"
    pkg.mkdir()
    marker = tmp_path / "imported"
    (pkg / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                 "def factory():\n    raise SystemExit(3)\n")
    run = _run_folder(tmp_path, "evil:factory")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--resume", str(run)],
                          capture_output=True, text=True, cwd=pkg)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--model evil:factory" in lines[0] and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_resume_with_a_different_model_is_still_refused(tmp_path):
    from pipeline.models.loading import refuse_untrusted_ref
    from pipeline.errors import UserError

    import pytest

    with pytest.raises(UserError, match="never imported"):
        refuse_untrusted_ref("pkg.mod:factory", "other:factory", tmp_path, "resume with")
    refuse_untrusted_ref("pkg.mod:factory", "pkg.mod:factory", tmp_path, "resume with")  # confirmed
    refuse_untrusted_ref("resnet20", None, tmp_path, "resume with")     # zoo: always allowed
