"""Synthetic landing folders for the monitoring pipeline, with planted cases and ground truth.

`generate(scale, years, seed, out)` (or `python -m pipelines.synth`) writes every input described in
docs/inputs.md — school registry, FIOKO ШНОР lists, objectivity markers and risk profiles, ВПР
participant files in the real ФИС ОКО layouts (vpr_files.py; one Parquet file a year at federal scale
instead), РЦОИ ГИА exports and social passports — and `ground_truth/` beside them, deterministically per
seed. ВПР work specifications and ГИА minimum scores are read from the dbt seeds, so generated marks follow
the scales the pipeline checks them against.

The official ШНОР lists apply the FIOKO rule (fioko.py) to the generated results; the level of results,
which FIOKO does not publish a rule for, is set locally: «Сильно неуспевающие» when both criteria hold or
three or more works were low in Y−1, «Умеренно неуспевающие» for criterion 1 only, «Базово неуспевающие»
for criterion 2 only. Planted cases are described in plan.py, the ground-truth files in truth.py.
"""

from pipelines.synth.generate import generate

__all__ = ["generate"]
