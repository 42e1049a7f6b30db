"""connector.yaml → ConnectorSpec, one job per module, in the order the checks run.

reading      the bytes off the disk: a regular file, never too big
yamlnodes    safe YAML → plain values with the line:col of each (encoding, syntax, duplicates, aliases)
secret_scan  secrets found in code, never echoed; `redact` for every message
explain      the schema's errors explained: what to write instead
problems     SpecProblem and the errors that carry them; where a value is
load         `load_spec` / `parse_spec`: the order of the checks, and the spec built once all pass
"""

from validator.spec.load import load_spec, parse_spec
from validator.spec.problems import SpecError, SpecFileError, SpecLoadError, SpecProblem

__all__ = ["SpecError", "SpecFileError", "SpecLoadError", "SpecProblem", "load_spec", "parse_spec"]
