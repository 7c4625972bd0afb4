#!/usr/bin/env python3
"""The scikit-learn baseline citydesk's classifier is compared with.

Reads train.csv and test.csv (columns text,label) written by
`citydesk evaluate --export-split DIR` or by `citydesk-brain-bench`, fits
TF-IDF (word 1-2-grams, sublinear tf) + logistic regression, and prints one
JSON object: accuracy, macro-F1 (sklearn's average="macro" over the labels of
truth and prediction), rows and seconds.

Usage: baseline.py DIR
"""

import csv
import json
import sys
import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline


def read(path: Path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    train_x, train_y = read(folder / "train.csv")
    test_x, test_y = read(folder / "test.csv")
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(max_iter=2000),
    )
    started = time.perf_counter()
    model.fit(train_x, train_y)
    seconds = time.perf_counter() - started
    predicted = model.predict(test_x)
    print(
        json.dumps(
            {
                "train_rows": len(train_x),
                "test_rows": len(test_x),
                "accuracy": accuracy_score(test_y, predicted),
                "macro_f1": f1_score(test_y, predicted, average="macro", zero_division=0),
                "training_seconds": seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
