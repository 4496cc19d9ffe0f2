/**
 * --format templates against docker's documented examples ("Format command and log output") and
 * Go's text/template documentation (the pipeline examples that all print "output").
 */
import { describe, expect, it } from 'vitest';
import { formatRows, renderTemplate, tabwrite } from '../../source/cli/template.js';

const inspect = {
  Id: 'f2a1c7e0c0b8a9d3',
  Name: '/my web',
  Args: ['-c', 'sleep 1'],
  Image: 'sha256:0123abcd',
  State: { Status: 'running', Pid: 42, ExitCode: 0, Running: true },
  Config: { Env: ['A=1', 'B=2'], Labels: { team: 'a', app: 'web' }, Image: 'demo' },
  NetworkSettings: { Networks: { front: { IPAddress: '10.0.0.2' }, back: { IPAddress: '10.1.0.2' } } },
  Mounts: [{ Type: 'volume', Destination: '/data' }],
};
const render = (template: string, value: unknown = inspect) =>
  renderTemplate(template, value, { missing: 'no-value' });

describe("docker's template functions", () => {
  it('join, json, lower, upper, title, split, println, pad, truncate', () => {
    expect(render('{{join .Args " , "}}')).toBe('-c , sleep 1');
    expect(render('{{json .Mounts}}')).toBe('[{"Type":"volume","Destination":"/data"}]');
    expect(render('{{json .}}')).toBe(JSON.stringify(inspect));
    expect(render('{{lower .State.Status | upper}}')).toBe('RUNNING');
    expect(render('{{title .Name}}')).toBe('/My Web');
    expect(render('{{split .Image ":"}}')).toBe('[sha256 0123abcd]');
    expect(render('{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}')).toBe(
      '10.1.0.2\n10.0.0.2\n',
    );
    expect(render('{{pad .Config.Image 2 3}}|')).toBe('  demo   |');
    expect(render('{{truncate .Id 5}}')).toBe('f2a1c');
  });

  it('.ID works as docker accepts it, as well as .Id', () => {
    expect(render('{{.ID}} {{.Id}} {{.state.pid}}')).toBe('f2a1c7e0c0b8a9d3 f2a1c7e0c0b8a9d3 42');
  });
});

describe("Go's text/template", () => {
  it('prints "output" for every pipeline example of the Go documentation', () => {
    for (const template of [
      '{{"\\"output\\""}}',
      '{{`"output"`}}',
      '{{printf "%q" "output"}}',
      '{{"output" | printf "%q"}}',
      '{{printf "%q" (print "out" "put")}}',
      '{{"put" | printf "%s%s" "out" | printf "%q"}}',
      '{{"output" | printf "%s" | printf "%q"}}',
      '{{with "output"}}{{printf "%q" .}}{{end}}',
      '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
      '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
      '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
    ])
      expect(render(template), template).toBe('"output"');
  });

  it('if / else if / else, with / else, comparisons and logic', () => {
    const status = (value: unknown) =>
      render(
        '{{if eq .State.Status "running"}}up{{else if eq .State.Status "exited"}}down{{else}}?{{end}}',
        value,
      );
    expect(status(inspect)).toBe('up');
    expect(status({ State: { Status: 'exited' } })).toBe('down');
    expect(status({ State: { Status: 'created' } })).toBe('?');
    expect(render('{{with .Nope}}x{{else with .Config}}{{.Image}}{{else}}none{{end}}')).toBe('demo');
    expect(render('{{if and .State.Running (gt .State.Pid 1) (not .State.ExitCode)}}ok{{end}}')).toBe('ok');
    expect(render('{{or .Nope "fallback"}} {{and 1 0 (index .Args 9)}}')).toBe('fallback 0');
    expect(render('{{eq .State.Pid 1 2 42}} {{ne .Name "x"}} {{lt 1 2}} {{le 2 2}} {{ge "a" "b"}}')).toBe(
      'true true true true false',
    );
    expect(() => render('{{eq .State.Pid "42"}}')).toThrow(/incompatible types for comparison/);
  });

  it('range over lists and maps with variables, else, break and continue', () => {
    expect(render('{{range $i, $e := .Args}}{{if $i}},{{end}}{{$e}}{{end}}')).toBe('-c,sleep 1');
    expect(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}')).toBe('app=web;team=a;');
    expect(render('{{range .Nope}}x{{else}}empty{{end}}')).toBe('empty');
    expect(render('{{range $i, $e := .Config.Env}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}')).toBe('A=1');
    expect(render('{{range .Config.Env}}{{if eq . "A=1"}}{{continue}}{{end}}{{.}}{{end}}')).toBe('B=2');
    expect(render('{{$n := len .Args}}{{$n = 7}}{{$n}} {{range 3}}{{.}}{{end}} {{$.Name}}')).toBe(
      '7 012 /my web',
    );
  });

  it('index, slice, len, print, printf, and Go printing of lists and maps', () => {
    expect(
      render(
        '{{index .Config.Env 1}} {{index .Config.Labels "team"}} {{index .NetworkSettings.Networks "front" "IPAddress"}}',
      ),
    ).toBe('B=2 a 10.0.0.2');
    expect(render('{{slice .Id 0 4}} {{slice .Args 1}} {{len .Config.Labels}} {{len .Name}}')).toBe(
      'f2a1 [sleep 1] 2 7',
    );
    expect(render('{{.Config.Env}} {{.Config.Labels}}')).toBe('[A=1 B=2] map[app:web team:a]');
    expect(render('{{print 1 2 "a" 3}}|{{println "a" 1}}|')).toBe('1 2a3|a 1\n|');
    expect(render('{{printf "%-6s|%5d|%05.1f|%x|%t|%v" "ab" 42 3.14159 255 true .Args}}')).toBe(
      'ab    |   42|003.1|ff|true|[-c sleep 1]',
    );
    expect(render('{{printf "%d"}} {{printf "%s" 1 2}}')).toBe('%!d(MISSING) %!s(int=1)%!(EXTRA int=2)');
    expect(() => render('{{index .Args 5}}')).toThrow(/index out of range: 5/);
  });

  it('trim markers, comments, raw strings and the missing-key rules', () => {
    expect(render('a  {{- /* note */ -}}  b {{- .State.Pid -}} \n c')).toBe('ab42c');
    expect(render('{{.Missing.Field}}')).toBe('<no value>');
    const row = { Names: 'web', Labels: { a: 'b' } };
    // docker's typed rows (ps, images) refuse a field they do not have; maps below give <no value>.
    expect(() => renderTemplate('{{.Nope}}', row)).toThrow('template: executing at <.Nope>: no field "Nope"');
    expect(renderTemplate('{{.Labels.nope}}', row)).toBe('<no value>');
  });

  it('refuses what does not parse, naming the problem', () => {
    expect(() => render('{{range .Args}}')).toThrow(/template parsing error: .*has no \{\{end\}\}/);
    expect(() => render('{{nosuch .Args}}')).toThrow(/function "nosuch" not defined/);
    expect(() => render('{{end}}')).toThrow(/unexpected \{\{end\}\}/);
    expect(() => render('{{.Args')).toThrow(/unclosed action/);
    expect(() => render('{{break}}')).toThrow(/outside \{\{range\}\}/);
    expect(() => render('{{.Name "x"}}')).toThrow(/can't give argument to non-function .Name/);
  });
});

describe('docker list formats', () => {
  const rows = [
    { ID: 'aaa', Names: 'web', Status: 'Up 2 seconds', Label: (key: string) => ({ app: 'x' })[key] ?? '' },
    { ID: 'bbbbbbbbbbbbbbbb', Names: 'db', Status: 'Exited (0)', Label: () => '' },
  ];
  const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Status: 'STATUS' };
  const defaultTable = () => 'DEFAULT\n';

  it('table prints a header row of titles and no word "table", aligned as tabwriter does', () => {
    const out = formatRows('table {{.Names}}\\t{{.Status}}', rows, { headers, defaultTable });
    expect(out.split('\n')).toEqual([
      'NAMES     STATUS',
      'web       Up 2 seconds',
      'db        Exited (0)',
      '',
    ]);
    const wide = formatRows('table {{.ID}}\t{{upper .Names}}\t{{.Label "app"}}', rows, {
      headers,
      defaultTable,
    });
    expect(wide.split('\n')).toEqual([
      'CONTAINER ID       NAMES     LABEL',
      'aaa                WEB       x',
      'bbbbbbbbbbbbbbbb   DB        ',
      '',
    ]);
    expect(formatRows('table', rows, { headers, defaultTable })).toBe('DEFAULT\n');
    // The header is printed even when there is no row, as docker does.
    expect(formatRows('table {{.Names}}', [], { headers, defaultTable })).toBe('NAMES\n');
  });

  it('json prints one object per row; a template one line per row', () => {
    const out = formatRows('json', [{ ID: 'a', Names: 'web' }], { headers, defaultTable });
    expect(JSON.parse(out)).toEqual({ ID: 'a', Names: 'web' });
    expect(formatRows('{{.Names}}:{{.ID}}', rows, { headers, defaultTable })).toBe(
      'web:aaa\ndb:bbbbbbbbbbbbbbbb\n',
    );
  });

  it('tabwrite keeps a minimum width of 10 and 3 spaces of padding', () => {
    expect(tabwrite('a\tb\nccccccccccccc\td\n')).toBe('a               b\nccccccccccccc   d\n');
  });
});
