"""Write the CloudWatch dashboard's body (deploy/dashboard.json) into a packaged template.

Usage: python deploy/dashboard.py build/package/sam.json   (deploy/package.sh runs it)

The body is kept as readable JSON beside the template rather than as one escaped string in
deploy/resources.json; here it becomes that string, an Fn::Sub, so `${AWS::Region}`,
`${APIHandler}`, `${SomeAlarm.Arn}` and the like name this stack's resources. A number taken
from a parameter is written "${Name}" in dashboard.json (to stay valid JSON) and unquoted here.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def body() -> str:
    with open(os.path.join(HERE, 'dashboard.json'), encoding='utf-8') as f:
        text = json.dumps(json.load(f), ensure_ascii=False, separators=(',', ':'))
    return re.sub(r'"value":"(\$\{[A-Za-z0-9]+\})"', r'"value":\1', text)


def main(argv=None) -> int:
    [path] = argv if argv is not None else sys.argv[1:]
    with open(path, encoding='utf-8') as f:
        template = json.load(f)
    template['Resources']['Dashboard']['Properties']['DashboardBody'] = {'Fn::Sub': body()}
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(template, f, indent=2, ensure_ascii=False)
        f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
