"""Each project rule passes its passing fixture and fails its failing one."""
import pathlib
import unittest

from samtranslator.yaml_helper import yaml_parse

import template_rules

HERE = pathlib.Path(__file__).parent


def problems(name):
    return template_rules.check(yaml_parse((HERE / "fixtures" / name).read_text(encoding="utf-8")))


class TemplateRules(unittest.TestCase):
    def test_passing_fixture_passes(self):
        self.assertEqual(problems("pass.yaml"), [])

    def test_each_failing_fixture_fails_its_rule_only(self):
        for rule in ["visibility", "partial-batch", "dlq", "secrets", "iam-wildcards"]:
            with self.subTest(rule=rule):
                found = problems(f"fail-{rule}.yaml")
                self.assertTrue(found, rule)
                self.assertTrue(all(p.startswith(rule + ":") for p in found), found)

    def test_the_real_template_passes(self):
        text = (HERE / ".." / ".." / "template.yaml").read_text(encoding="utf-8")
        self.assertEqual(template_rules.check(yaml_parse(text)), [])


if __name__ == "__main__":
    unittest.main()
