"""hello, written against the mgr_module API in the decorator style of modern ceph-mgr
modules, plus two commands the tests need: one with an integer argument and one that raises."""
from typing import Optional

from mgr_module import CLIReadCommand, HandleCommandResult, MgrModule, Option


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
