"""The Python peers of the sweep benchmark (scripts/bench-sweeps.sh), in the same run as Tipi's figures.

  peers.py hydra N        Hydra's multirun of N no-op jobs (its basic launcher); prints seconds in all
  peers.py optuna SEEDS   Optuna's TPE and random samplers on Branin, 40 trials per seed; prints each best
"""
import math
import os
import sys
import time


def branin(x, y):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def hydra(count):
    import subprocess
    app = os.path.join(os.path.dirname(os.path.abspath(__file__)), "noop_app.py")
    work = os.environ.get("BENCH_WORK", "/tmp")
    values = ",".join(str(i) for i in range(count))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, app, "--multirun", f"+x={values}", f"hydra.sweep.dir={work}/hydra-multirun"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"hydra {count} jobs {time.perf_counter() - start:.3f} s")


def optuna_bests(seeds):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name, make in (("optuna-tpe", lambda s: optuna.samplers.TPESampler(seed=s)),
                       ("optuna-random", lambda s: optuna.samplers.RandomSampler(seed=s))):
        bests = []
        for seed in range(seeds):
            study = optuna.create_study(sampler=make(seed), direction="minimize")
            study.optimize(lambda trial: branin(trial.suggest_float("x", -5, 10), trial.suggest_float("y", 0, 15)), n_trials=40)
            bests.append(study.best_value)
        print(name, " ".join(f"{b:.6f}" for b in bests))


if __name__ == "__main__":
    if sys.argv[1] == "hydra":
        hydra(int(sys.argv[2]))
    else:
        optuna_bests(int(sys.argv[2]))
