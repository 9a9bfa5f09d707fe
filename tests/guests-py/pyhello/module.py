"""hello, written against the mgr_module API in the decorator style of modern ceph-mgr
modules, plus the commands the tests need: one with an integer argument, one that raises, and
some over the cluster maps and health checks."""
from typing import Optional

from mgr_module import CLIReadCommand, CLIWriteCommand, HandleCommandResult, MgrModule, Option


class Hello(MgrModule):
    MODULE_OPTIONS = [
        Option('place', default='world', desc='who is greeted by default', runtime=True),
    ]

    def _greet(self, person_name: Optional[str]) -> str:
        who = person_name or self.get_module_option('place')
        count = int(self.get_store('greetings', '0')) + 1
        self.set_store('greetings', str(count))
        self.log.info('greeted %s (greeting number %d)', who, count)
        return f'Hello, {who}!'

    @CLIReadCommand('pyhello')
    def hello(self, person_name: Optional[str] = None) -> HandleCommandResult:
        """Say hello"""
        return HandleCommandResult(stdout=self._greet(person_name))

    @CLIReadCommand('pyhello repeat')
    def repeat(self, count: int) -> HandleCommandResult:
        """Say hello COUNT times"""
        return HandleCommandResult(stdout=' '.join(self._greet(None) for _ in range(count)))

    @CLIReadCommand('pyhello stats')
    def stats(self) -> HandleCommandResult:
        """Show how many greetings were sent"""
        return HandleCommandResult(stdout='{"greetings": %d}' % int(self.get_store('greetings', '0')))

    @CLIReadCommand('pyhello fail')
    def fail(self) -> HandleCommandResult:
        """Raise an exception (a bug in a handler)"""
        return HandleCommandResult(stdout=str({}['missing']))

    @CLIReadCommand('pyhello osds')
    def osds(self) -> HandleCommandResult:
        """Count the OSDs in the OSD map"""
        return HandleCommandResult(stdout=str(len(self.get('osd_map')['osds'])))

    @CLIReadCommand('pyhello data')
    def data(self, name: str) -> HandleCommandResult:
        """Show how many top-level keys a cluster map has"""
        return HandleCommandResult(stdout=str(len(self.get(name))))

    @CLIWriteCommand('pyhello warn')
    def warn(self, who: str) -> HandleCommandResult:
        """Raise a health warning about someone"""
        self.set_health_checks({'PYHELLO_WARN': {
            'severity': 'warning',
            'summary': f'{who} was warned',
            'detail': [f'{who} was warned by pyhello'],
        }})
        return HandleCommandResult()

    @CLIWriteCommand('pyhello clear')
    def clear(self) -> HandleCommandResult:
        """Clear the health warning"""
        self.set_health_checks({})
        return HandleCommandResult()
