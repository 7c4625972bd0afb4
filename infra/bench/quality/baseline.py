#!/usr/bin/env python3
"""The scikit-learn baselines citydesk's classifier is compared with, each tuned.

Reads train.csv and test.csv (columns text,label) written by
`citydesk evaluate --export-split DIR` or by `citydesk-brain-bench` and fits
four baselines:

- TF-IDF word 1-2-grams (sublinear tf) + logistic regression
- TF-IDF word 1-2-grams (sublinear tf) + linear SVM (LinearSVC)
- TF-IDF char_wb 2-5-grams (sublinear tf) + logistic regression
- TF-IDF char_wb 2-5-grams (sublinear tf) + linear SVM (LinearSVC)

Each one's C is chosen from C_GRID by 5-fold cross-validation on the training
rows only (the test rows are never seen before the final score): the mean
macro-F1 over the folds, the TF-IDF vocabulary fitted on each fold's training
part, the smallest C wins a tie. The folds are stratified by label
(StratifiedKFold, shuffled, seed 0) when some label has at least 5 rows; a
label with fewer rows then sits in the held-out part of fewer folds (sklearn
allows that; its warning is silenced). Otherwise they are plain shuffled
KFold folds (as many as there are rows, below 5 rows). A fold whose training part has a single label cannot be fitted
and is left out of the mean; when no fold can be, C is 1 and cv_macro_f1 is
null. The chosen C is then refitted on all training rows and scored on the
test rows.

Prints one JSON object:

  {"train_rows": N, "test_rows": M, "cv_folds": 5, "cv": "stratified",
   "baselines": [{"name": ..., "C": ..., "cv_macro_f1": ..., "accuracy": ...,
                  "macro_f1": ..., "training_seconds": ...,
                  "tuning_seconds": ...}, ...]}

accuracy and macro_f1 are on the test rows, macro-F1 being sklearn's
average="macro" over the labels of truth and prediction, zero_division=0
(as citydesk's own evaluation). training_seconds is the final fit on all
training rows with the chosen C (vectoriser included), comparable with
citydesk's training time; tuning_seconds is the cross-validation before it.
BLAS and OpenMP run on one thread; the cross-validation fits two folds at a
time in worker processes (JOBS), the final fit runs alone.

Usage: baseline.py DIR
"""

import csv
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

C_GRID = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0]
FOLDS = 5
SEED = 0
# Folds fitted at once (processes) during the cross-validation; the final fit
# on all training rows runs alone, on one thread.
JOBS = 2


def word_features():
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def char_features():
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)


def logistic(c):
    return LogisticRegression(C=c, max_iter=5000)


def svm(c):
    return LinearSVC(C=c, max_iter=20000, random_state=SEED)


BASELINES = [
    ("tfidf-word-1-2 + logistic regression", word_features, logistic),
    ("tfidf-word-1-2 + linear svm", word_features, svm),
    ("tfidf-char_wb-2-5 + logistic regression", char_features, logistic),
    ("tfidf-char_wb-2-5 + linear svm", char_features, svm),
]


def read(path: Path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for column in ("text", "label"):
        if rows and column not in rows[0]:
            raise SystemExit(f"{path}: no {column!r} column")
    return [r["text"] for r in rows], [r["label"] for r in rows]


def macro_f1(truth, predicted):
    return f1_score(truth, predicted, average="macro", zero_division=0)


def folds(labels):
    """(kind, folds): FOLDS-fold splits of the training rows, as index lists."""
    if max(Counter(labels).values()) >= FOLDS:
        splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
        kind = "stratified"
    else:
        splitter = KFold(n_splits=min(FOLDS, len(labels)), shuffle=True, random_state=SEED)
        kind = "plain"
    with warnings.catch_warnings():
        # "The least populated class in y has only 1 members": expected here.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return kind, list(splitter.split(labels, labels))


def fold_scores(features, classifier, x, y, train_i, test_i):
    """Macro-F1 on one fold's held-out part for each C in C_GRID, or None."""
    fold_y = [y[i] for i in train_i]
    if len(set(fold_y)) < 2:
        return None
    with threadpool_limits(limits=1):
        vectoriser = features()
        try:
            fold_x = vectoriser.fit_transform([x[i] for i in train_i])
        except ValueError:  # empty vocabulary
            return None
        held_x = vectoriser.transform([x[i] for i in test_i])
        held_y = [y[i] for i in test_i]
        return [macro_f1(held_y, classifier(c).fit(fold_x, fold_y).predict(held_x)) for c in C_GRID]


def tune(features, classifier, x, y, splits):
    """(C, mean CV macro-F1 or None) for one baseline; JOBS folds at a time."""
    scores = Parallel(n_jobs=JOBS)(
        delayed(fold_scores)(features, classifier, x, y, train_i, test_i) for train_i, test_i in splits
    )
    used = [s for s in scores if s is not None]
    if not used:
        return 1.0, None
    means = [sum(s[k] for s in used) / len(used) for k in range(len(C_GRID))]
    best = max(range(len(C_GRID)), key=lambda k: means[k])  # first of equals: the smallest C
    return C_GRID[best], means[best]


def fit_and_score(name, features, classifier, splits, train_x, train_y, test_x, test_y):
    started = time.perf_counter()
    c, cv_f1 = tune(features, classifier, train_x, train_y, splits)
    tuning = time.perf_counter() - started
    started = time.perf_counter()
    vectoriser = features()
    model = classifier(c).fit(vectoriser.fit_transform(train_x), train_y)
    training = time.perf_counter() - started
    predicted = model.predict(vectoriser.transform(test_x))
    return {
        "name": name,
        "C": c,
        "cv_macro_f1": cv_f1,
        "accuracy": accuracy_score(test_y, predicted),
        "macro_f1": macro_f1(test_y, predicted),
        "training_seconds": training,
        "tuning_seconds": tuning,
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    train_x, train_y = read(folder / "train.csv")
    test_x, test_y = read(folder / "test.csv")
    labels = len(set(train_y))
    if labels < 2:
        print(f"{folder / 'train.csv'}: need at least two labels to train, found {labels}", file=sys.stderr)
        return 1
    if not test_x:
        print(f"{folder / 'test.csv'}: no rows to score", file=sys.stderr)
        return 1
    kind, splits = folds(train_y)
    # One thread for BLAS and OpenMP, here and in each fold's process: on a
    # shared two-core machine their default threads mostly wait for each other
    # (lbfgs ran 2-3x slower).
    with threadpool_limits(limits=1):
        baselines = [
            fit_and_score(name, features, classifier, splits, train_x, train_y, test_x, test_y)
            for name, features, classifier in BASELINES
        ]
    print(
        json.dumps(
            {
                "train_rows": len(train_x),
                "test_rows": len(test_x),
                "cv_folds": len(splits),
                "cv": kind,
                "baselines": baselines,
            },
            allow_nan=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
