"""The version observatory (issue 29): the same exam under several releases of one library.

``xaicheck observe --library shap --releases 0.47.2,0.51.0 --suite quick --out DIR`` builds one cheap environment per
release (:mod:`.envs`: the release alone, ``pip install --no-deps`` into a target directory put first on the path of
the unchanged project interpreter, so numpy, torch and everything else stay pinned), checks what the explainer zygote
imports there (:mod:`.probe`), runs the suite restricted to that library's explainers (:mod:`.observe`), and writes
the cells whose status or score changed between consecutive releases (:mod:`.changes`) with a markdown summary.
"""

from .changes import CHANGE_COLUMNS, consecutive_changes, release_pairs
from .envs import ReleaseEnv, release_environ, target_dir

__all__ = ["CHANGE_COLUMNS", "consecutive_changes", "release_pairs", "ReleaseEnv", "release_environ", "target_dir"]
