from django.core.management.base import BaseCommand

from backoffice.projects.demo import demo_setup


class Command(BaseCommand):
    help = "Create the demo companies, teams, people and documents, and print two log-ins."

    def handle(self, *args, **options):
        logins = demo_setup()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("The back-office is at http://127.0.0.1:8000/admin/"))
        self.stdout.write(f"  superuser:     {logins.superuser[0]}  password {logins.superuser[1]}")
        self.stdout.write(
            f"  scoped staff:  {logins.scoped_staff[0]}  password {logins.scoped_staff[1]}"
            f"  (admin of {logins.company} only)"
        )
        self.stdout.write("")
