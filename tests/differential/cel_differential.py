"""Differential test: oidc-preflight's GCP CEL evaluator against Google's cel-cpp.

Generates a seeded set of GCP-style expressions (==, !=, startsWith, endsWith, contains,
matches with RE2 incl. Unicode classes and (?i), in, &&, ||, !, has(), ternary, size(),
concatenation, extract) and claim sets, evaluates each with cel-cpp (cel-expr-python) and with
oidc-preflight (examples/cel_eval.rs, JSON lines), and compares the results: the same type and
value, or an error on both sides (messages differ between engines and are not compared).

A disagreement fails the run unless a rule in allowlist.tsv explains it (columns: a regex
searched in the expression, the reason). Prints the counts; exits 1 on an unexplained
disagreement.

Usage: python cel_differential.py --binary PATH [--cases N] [--seed S] [--show K]
"""

import argparse
import json
import pathlib
import random
import re
import subprocess
import sys

from cel_expr_python import cel

HERE = pathlib.Path(__file__).resolve().parent

CLAIMS = ["sub", "repository", "repository_owner", "ref", "environment", "actor", "workflow"]
VALUES = [
    "octo-org", "Octo-Org", "OCTO-ORG", "octo-org/octo-repo", "Octo-Org/Octo-Repo",
    "refs/heads/main", "refs/heads/feature/ümlaut", "refs/tags/v1.2.3", "refs/pull/7/merge",
    "repo:octo-org/octo-repo:ref:refs/heads/main", "repo:octo-org/octo-repo:environment:prod",
    "repo:octo-org@65/octo-repo@74:ref:refs/heads/main", "prod", "Prod", "Größe", "GRÖSSE",
    "straße", "STRASSE", "ΣΑΣ", "σας", "日本語", "k", "\u212a", "a b", "a\tb", "é", "٣",
    "", "main", "x{name}y", "a.b", "[x]", "café-bot",
]
LITERALS = VALUES + ["refs/", "/main", "octo", "ORG", "heads/", "repo:", ":", "-bot", "ß"]
PATTERNS = [
    r"^\p{L}+$", r"\p{Lu}", r"^\pN+$", r"\p{Greek}", r"\p{Han}", r"\P{L}", r"(?i)^octo-org",
    r"(?i)straße", r"(?i)^σας$", r"(?i)^k$", r"(?i)größe", r"^\w+$", r"\w", r"^\d", r"\d",
    r"\s", r"\S+", r"\W", r"\bmain\b", r"é\b", r"\B", r"^refs/(heads|tags)/", r"[[:alpha:]]+$",
    r"^[[:upper:]]", r"[^a-z]", r"^.$", r"^..$", r"(?s)a.b", r"^$", r".+", r"{name}", r"x{",
    r"^a{2,3}$", r"o{2}", r"\Qa.b\E", r"\x{212A}", r"\101", r"[a[]", r"[\d-]", r"\<", r"[\w]+",
    r"(?U)o+", r"(?m)^main$", r"(?i:O)cto", r"^(?P<o>[a-z]+)-", r"(", r"\p{Alphabetic}",
    r"a**", r"(?x)a b", r"\u0041", r"a{1001}", r"\1", r"\C", r"[[:word:]]", r"\p{greek}",
    r"^\P{Lu}*$", r"[\p{Lu}\d]", r"^[^\s]+$", r"(?i)[a-z]+", r"\Z", r"\z", r"\A",
]
TEMPLATES = ["/heads/{branch}/", "/heads/{branch}", "repo:{repo}:", "{all}", ":{x}:", "environment:{env}"]


def quote(text):
    """A CEL single-quoted string literal."""
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        else:
            out.append(c)
    return "'" + "".join(out) + "'"


class Generator:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def claim(self):
        name = self.r.choice(CLAIMS)
        return f"assertion['{name}']" if self.r.random() < 0.1 else f"assertion.{name}"

    def literal(self):
        return quote(self.r.choice(LITERALS))

    def string(self, depth=0):
        k = self.r.random()
        if depth < 2 and k < 0.15:
            return f"({self.string(depth + 1)} + {self.string(depth + 1)})"
        if k < 0.25:
            name = self.r.choice(CLAIMS)
            return f"(has(assertion.{name}) ? assertion.{name} : '')"
        if k < 0.3:
            return f"{self.claim()}.extract({quote(self.r.choice(TEMPLATES))})"
        if k < 0.45:
            return self.literal()
        return self.claim()

    def leaf(self):
        r = self.r
        k = r.randrange(12)
        if k == 0:
            return f"{self.string()} == {self.literal()}"
        if k == 1:
            return f"{self.string()} != {self.literal()}"
        if k == 2:
            return f"{self.string()}.{r.choice(['startsWith', 'endsWith', 'contains'])}({self.literal()})"
        if k in (3, 4):
            return f"{self.string()}.matches({quote(r.choice(PATTERNS))})"
        if k == 5:
            items = ", ".join(self.literal() for _ in range(r.randrange(1, 4)))
            return f"{self.string()} in [{items}]"
        if k == 6:
            return f"{self.literal()} in assertion.aud"
        if k == 7:
            return f"has(assertion.{r.choice(CLAIMS)})"
        if k == 8:
            return f"size({self.string()}) {r.choice(['>', '==', '<='])} {r.randrange(0, 12)}"
        if k == 9:
            return r.choice(["true", "false"])
        if k == 10:
            return f"matches({self.string()}, {quote(r.choice(PATTERNS))})"
        return f"{self.string()} == {self.string()}"

    def condition(self, depth=0):
        r = self.r
        if depth >= 3 or r.random() < 0.35:
            return self.leaf()
        k = r.randrange(5)
        a, b = self.condition(depth + 1), self.condition(depth + 1)
        if k == 0:
            return f"{a} && {b}"
        if k == 1:
            return f"({a} || {b})"
        if k == 2:
            return f"!({a})"
        if k == 3:
            return f"({self.condition(depth + 1)} ? {a} : {b})"
        return f"({a}) && ({b} || {self.leaf()})"

    def expression(self):
        # Mostly conditions; some mappings (string-valued).
        return self.string() if self.r.random() < 0.15 else self.condition()

    def claims(self):
        claims = {}
        for name in CLAIMS:
            if self.r.random() < 0.8:
                claims[name] = self.r.choice(VALUES)
        k = self.r.random()
        if k < 0.5:
            claims["aud"] = self.r.choice(VALUES)
        elif k < 0.8:
            claims["aud"] = [self.r.choice(VALUES) for _ in range(self.r.randrange(0, 3))]
        return claims


def cel_cpp(env, expr, claims):
    """(type, value) from cel-cpp, or ("error", message)."""
    try:
        value = env.compile(expr).eval(data={"assertion": claims})
    except Exception as error:  # compile-time errors (syntax, unknown functions)
        return "error", str(error)
    kind = value.type().name()
    plain = value.plain_value()
    if kind == "ERROR" or kind == "*error*":
        return "error", str(plain)
    if kind == "BOOL":
        return "bool", "true" if plain else "false"
    if kind == "STRING":
        return "string", plain
    if kind == "INT":
        return "int", str(plain)
    return kind.lower(), str(plain)


def load_allowlist():
    rules = []
    for line in (HERE / "allowlist.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, reason = line.split("\t", 1)
        rules.append((re.compile(pattern), reason))
    return rules


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()

    generator = Generator(args.seed)
    cases = [
        {"id": i, "expr": generator.expression(), "claims": generator.claims()}
        for i in range(args.cases)
    ]
    env = cel.NewEnv(variables={"assertion": cel.Type.Map(cel.Type.STRING, cel.Type.DYN)})
    theirs = [cel_cpp(env, c["expr"], c["claims"]) for c in cases]
    lines = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    run = subprocess.run([args.binary], input=lines, capture_output=True, text=True, check=True)
    ours = {}
    for line in run.stdout.splitlines():
        result = json.loads(line)
        ours[result["id"]] = (result["type"], result["value"])

    rules = load_allowlist()
    agree, explained, unexplained = {}, {}, []
    kinds = {}
    for case, their in zip(cases, theirs):
        our = ours.get(case["id"], ("missing", ""))
        same = our[0] == their[0] and (our[0] == "error" or our[1] == their[1])
        kinds[their[0]] = kinds.get(their[0], 0) + 1
        if same:
            agree[their[0]] = agree.get(their[0], 0) + 1
            continue
        reason = next((why for rule, why in rules if rule.search(case["expr"])), None)
        if reason is None:
            unexplained.append((case, our, their))
        else:
            explained[reason] = explained.get(reason, 0) + 1

    total = len(cases)
    shown = ", ".join(f"{k.lower()} {n}" for k, n in sorted(kinds.items()))
    print(f"cel differential (seed {args.seed}): {total} expressions ({shown} by cel-cpp)")
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(agree.items()))
    print(f"  agree: {sum(agree.values())} ({by_kind})")
    for reason, n in sorted(explained.items()):
        print(f"  differ, allow-listed ({reason}): {n}")
    print(f"  differ, unexplained: {len(unexplained)}")
    for case, our, their in unexplained[: args.show]:
        print(f"    {case['expr']}\n      claims: {json.dumps(case['claims'], ensure_ascii=False)}")
        print(f"      oidc-preflight: {our}\n      cel-cpp:        {their}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
