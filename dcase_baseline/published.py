"""The figures each year's baseline published, as plain data beside the years' records
(years.py), with whose figures they are: the development-set figures of the 2020-2022
autoencoder baselines' READMEs and the evaluation-set figures of the 2023 and 2024 official
evaluators' READMEs, and how the records take them (eval_figures)."""

# The published figures, copied from each year's README, as plain data. Key cells as result.csv
# writes them: a 2020 machine ID or a section "00" (two digits), a 2021 domain.
#
# 2020: y-kawagu/dcase2020_task2_baseline, README.md at ebfcc2ae886511d074a4e746890c3ef877800de0
#   ("7. Check results", result.csv): AUC and pAUC per machine type and ID (the README writes
#   the ID as 1, 2, ...), all six machine types, and each machine type's "Average".
PUBLISHED_2020 = {
    "ToyCar": {"01": (0.828474, 0.678514), "02": (0.866307, 0.762236),
               "03": (0.639396, 0.546659), "04": (0.869477, 0.701461)},
    "ToyConveyor": {"01": (0.793497, 0.650428), "02": (0.64243, 0.564437),
                    "03": (0.744579, 0.60488)},
    "fan": {"00": (0.539607, 0.492435), "02": (0.721866, 0.554171),
            "04": (0.622098, 0.527072), "06": (0.72277, 0.529961)},
    "pump": {"00": (0.670769, 0.57269), "02": (0.609369, 0.58037),
             "04": (0.8886, 0.676842), "06": (0.734902, 0.570175)},
    "slider": {"00": (0.963315, 0.818451), "02": (0.78809, 0.628819),
               "04": (0.946011, 0.739503), "06": (0.702247, 0.490242)},
    "valve": {"00": (0.687311, 0.51349), "02": (0.674083, 0.512281),
              "04": (0.744, 0.515351), "06": (0.552833, 0.482895)},
}
AVERAGE_2020 = {"ToyCar": (0.800914, 0.672218), "ToyConveyor": (0.726835, 0.606582),
                "fan": (0.651585, 0.52591), "pump": (0.72591, 0.600019),
                "slider": (0.849916, 0.669254), "valve": (0.664557, 0.506004)}
# 2021: y-kawagu/dcase2021_task2_baseline_ae, README.md at
#   7d7f5cce4c3b635a12dcb6fcf401eaca983afd27 ("7. Check results", result.csv): AUC and pAUC
#   (precision, recall and F1 are published too, not compared here) per section and domain of
#   fan and valve only (the README elides the other five machine types with "..."), their
#   means, and the means over all machine types, sections and domains.
PUBLISHED_2021 = {
    "fan": {("00", "source"): (0.6738, 0.573157895), ("01", "source"): (0.6786, 0.505263158),
            ("02", "source"): (0.6542, 0.532631579), ("00", "target"): (0.6955, 0.548421053),
            ("01", "target"): (0.4953, 0.483157895), ("02", "target"): (0.6441, 0.559473684)},
    "valve": {("00", "source"): (0.5026, 0.506842105), ("01", "source"): (0.5404, 0.494210526),
              ("02", "source"): (0.596, 0.516315789), ("00", "target"): (0.4716, 0.485263158),
              ("01", "target"): (0.5857, 0.548421053), ("02", "target"): (0.5489, 0.489473684)},
}
# 2022: Kota-Dohi/dcase2022_task2_baseline_ae, README.md (its result.csv example, seen at
#   098cb01f4b2654a5255dab3c4a163bd11549509b): AUC (source), AUC (target), pAUC per section of
#   fan and valve, and the means over all 21 sections of 2022.
PUBLISHED_2022 = {
    "fan": {"00": (0.8488, 0.4542, 0.6136), "01": (0.7150, 0.4600, 0.5089),
            "02": (0.8042, 0.6477, 0.6131)},
    "valve": {"00": (0.5432, 0.5116, 0.5231), "01": (0.4890, 0.5448, 0.4968),
              "02": (0.5298, 0.4432, 0.4973)},
}
# 2023-2026: nttcslab/dcase2023_task2_baseline_ae, the one baseline of these years, publishes no
#   figure of a named machine type in its README.md (read at 725b304f91d1 (2023), ce6566afdbae
#   (2024), 07f91500b7b2 (2025) and 36845a1a6a0d (2026)) nor in README_legacy.md (04417eb46f81,
#   9f98db61882f), on any branch: its result.csv example (section 00, AUC (source) 0.88, ...)
#   names no machine type. The development-set tables of the task descriptions (the
#   dcase.community task pages; arXiv 2305.07828 (2023), 2406.07250 (2024), 2506.10097 (2025),
#   2606.01578 (2026)) could not be read where this project was written: the stored copies hold
#   their first pages only. Their published development figures are unknown here.
SUCCESSOR_SOURCE = ("The {year} task description (the dcase.community task page, arXiv "
                    "{paper}) publishes the autoencoder baseline's development-set figures "
                    "per machine type, but its table could not be read where this project was "
                    "written, and the baseline's README (nttcslab/dcase2023_task2_baseline_ae) "
                    "publishes none of a named machine type: every published figure here is "
                    "unknown.")
PAPERS = {2023: "2305.07828", 2024: "2406.07250", 2025: "2506.10097", 2026: "2606.01578"}

# The evaluation-set figures of the 2023 and 2024 baselines (one training, seed 13711), as the
# years' official evaluators print them (_seed13711_official_score_paper.csv in README.md):
# AUC (source), AUC (target), pAUC per machine type (section 00), and the harmonic means over
# the machine types (the "h-mean" column), for score MSE and MAHALA (score: mahalanobis).
#   2023: nttcslab/dcase2023_task2_evaluator, README.md at 2145dc3bfe0c5c76ec289c34acea462fb6270243
#   2024: nttcslab/dcase2024_task2_evaluator, README.md at 576e3272d3d829031b246b3d270de52518af18d6
EVAL_2023 = {
    "mahalanobis": (("bandsaw", 0.836434267021059, 0.5885844748858448, 0.5753594967896497),
                    ("grinder", 0.7409411378914575, 0.50682261208577, 0.5955291246149972),
                    ("shaker", 0.8476602762317048, 0.6299533799533801, 0.6233307541280444),
                    ("ToyDrone", 0.8130000000000001, 0.4622, 0.5142105263157895),
                    ("ToyNscale", 0.6678000000000002, 0.409, 0.5089473684210526),
                    ("ToyTank", 0.8011999999999999, 0.4532, 0.5384210526315789),
                    ("Vacuum", 0.8383999999999999, 0.9006, 0.653157894736842),
                    (None, 0.7871141310430937, 0.53090862919051, 0.5682103280865886)),
    "mse": (("bandsaw", 0.6667348190554078, 0.48287671232876717, 0.5091087658743451),
            ("grinder", 0.706837186424004, 0.5516569200779727, 0.5846166760294185),
            ("shaker", 0.69428983714698, 0.5604118104118104, 0.5491654428600755),
            ("ToyDrone", 0.7968000000000001, 0.561, 0.5368421052631579),
            ("ToyNscale", 0.77, 0.4716, 0.5178947368421053),
            ("ToyTank", 0.7212000000000001, 0.6468, 0.5826315789473684),
            ("Vacuum", 0.8816, 0.45320000000000005, 0.5947368421052631),
            (None, 0.7423494890244248, 0.5253826834789426, 0.5517419647782388)),
}
EVAL_2024 = {
    "mahalanobis": (("3DPrinter", 0.7544, 0.42399999999999993, 0.508421052631579),
                    ("AirCompressor", 0.6609999999999999, 0.555, 0.6078947368421053),
                    ("Scanner", 0.5684, 0.5549999999999999, 0.4926315789473684),
                    ("ToyCircuit", 0.6794, 0.4464, 0.4921052631578947),
                    ("HoveringDrone", 0.8387999999999999, 0.46399999999999997,
                     0.5800000000000001),
                    ("HairDryer", 0.606, 0.5898, 0.5510526315789473),
                    ("ToothBrush", 0.6556, 0.579, 0.48368421052631577),
                    ("RoboticArm", 0.5834, 0.42499999999999993, 0.5178947368421053),
                    ("BrushlessMotor", 0.8032, 0.7338, 0.5905263157894737),
                    (None, 0.6718221907158789, 0.5144113485475758, 0.5324024369331867)),
    "mse": (("3DPrinter", 0.7912, 0.47959999999999997, 0.4942105263157895),
            ("AirCompressor", 0.65, 0.4824, 0.5547368421052632),
            ("Scanner", 0.6916, 0.5374000000000001, 0.5010526315789474),
            ("ToyCircuit", 0.7658, 0.5266000000000001, 0.5),
            ("HoveringDrone", 0.8601999999999999, 0.43879999999999997, 0.5021052631578947),
            ("HairDryer", 0.6224000000000001, 0.4598, 0.5163157894736842),
            ("ToothBrush", 0.7504000000000001, 0.6948, 0.5273684210526316),
            ("RoboticArm", 0.6596, 0.4152, 0.511578947368421),
            ("BrushlessMotor", 0.7070000000000001, 0.6352, 0.5557894736842105),
            (None, 0.7150555228086642, 0.5057977147441246, 0.5172271108149132)),
}
EVAL_SOURCE = ("The {year} autoencoder baseline's evaluation-set figures, as its official "
               "evaluator's README (nttcslab/dcase{year}_task2_evaluator) prints them: one "
               "training with seed 13711, score {variant}; the harmonic means over its machine "
               "types below the table.")


def eval_figures(table):
    """published_eval and published_eval_means of a table above."""
    figures = {score: {(machine, "00"): tuple(values) for machine, *values in rows if machine}
               for score, rows in table.items()}
    means = {score: tuple((None, "harmonic", "harmonic mean over the machine types",
                           tuple(values)) for machine, *values in rows if machine is None)
             for score, rows in table.items()}
    return {"published_eval": figures, "published_eval_means": means}
