// The examples at the end of each command's --help, by command path. Every command that does
// something has some (help-examples.test.ts checks it, and that each example names a real
// command path and only flags that command takes).

export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  enroll: ['sluicectl enroll edge-01', 'sluicectl enroll edge-02 --ttl 30m'],
  edges: ['sluicectl edges', 'sluicectl edges --format json'],
  'push-rule': [
    'sluicectl push-rule edge-01 0.0.0.0:8080 10.0.0.5:80 10.0.0.6:80 --balance round-robin',
    'sluicectl push-rule edge-01 0.0.0.0:5353 10.0.0.9:53 --protocol udp --limit bandwidth=100Mbit',
    'sluicectl push-rule edge-01 0.0.0.0:443 --sni a.example.com=10.0.0.7:443 --proxy-protocol v2',
  ],
  'list-rules': ['sluicectl list-rules', 'sluicectl list-rules --edge edge-01 --format json'],
  'rule-stats': ['sluicectl rule-stats r_0123456789ab', 'sluicectl rule-stats r_0123456789ab --watch'],
  'remove-rule': ['sluicectl remove-rule r_0123456789ab'],
  revoke: ['sluicectl revoke edge-01'],
  'user add': [
    'sluicectl user add alice',
    'printf \'%s\\n\' "$PASSWORD" | sluicectl user add bob --role admin --display-name Bob --password-stdin',
  ],
  'user list': ['sluicectl user list'],
  'user show': ['sluicectl user show me', 'sluicectl user show alice --format json'],
  'user disable': ['sluicectl user disable alice'],
  'user enable': ['sluicectl user enable alice'],
  'user remove': ['sluicectl user remove alice'],
  'user passwd': [
    'sluicectl user passwd   (then the current password and the new one, a line each)',
    'sluicectl user passwd --reset alice',
  ],
  'token create': ['sluicectl token create ci', 'sluicectl token create deploy --user alice'],
  'token list': ['sluicectl token list', 'sluicectl token list --user alice'],
  'token revoke': ['sluicectl token revoke t_0123456789ab'],
  'grant add': [
    'sluicectl grant add alice edge-01 8000-8099',
    "sluicectl grant add alice '*' 5353 --protocols tcp,udp",
  ],
  'grant list': ['sluicectl grant list', 'sluicectl grant list --user alice --edge edge-01'],
  'grant revoke': ['sluicectl grant revoke g_0123456789ab'],
  'owner-limits set': [
    'sluicectl owner-limits set edge-01 alice --limit bandwidth=1Gbit --limit max_connections=1000',
  ],
  'owner-limits get': ['sluicectl owner-limits get edge-01 alice'],
  'owner-limits delete': ['sluicectl owner-limits delete edge-01 alice'],
  'quota set': [
    'sluicectl quota set alice edge-01 --monthly 500GiB',
    'sluicectl quota set alice edge-01 --monthly 1TiB --anchor 2026-01-15T00:00:00Z',
  ],
  'quota status': ['sluicectl quota status', 'sluicectl quota status alice edge-01'],
  'quota clear': ['sluicectl quota clear alice edge-01'],
  'quota remove': ['sluicectl quota remove alice edge-01'],
  traffic: [
    'sluicectl traffic',
    'sluicectl traffic --edge edge-01 --from 6h',
    'sluicectl traffic --user alice --bucket 1h --from 7d --format json',
  ],
  completion: ['source <(sluicectl completion bash)', 'sluicectl completion fish | source'],
};
