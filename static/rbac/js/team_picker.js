'use strict';
// Team pickers (rbac/admin_teams.py): Django's autocomplete, plus the company the form has
// chosen, so that only that company's teams are offered.
// The admin may order this file before jQuery when it merges the media of several widgets:
// nothing here touches django.jQuery before the page has loaded.
{
    function companyOf(element) {
        if (element.dataset.companyId) {
            return element.dataset.companyId;
        }
        const name = element.dataset.companyField;
        const source = name && element.form ? element.form.elements.namedItem(name) : null;
        return source ? source.value : '';
    }

    function start(element) {
        const $ = django.jQuery;
        $(element).select2({
            ajax: {
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: element.dataset.appLabel,
                    model_name: element.dataset.modelName,
                    field_name: element.dataset.fieldName,
                    company: companyOf(element)
                })
            }
        });
        const name = element.dataset.companyField;
        const source = name && element.form ? element.form.elements.namedItem(name) : null;
        if (source) {
            // A team of the company chosen before would now be a team of another company.
            $(source).on('change', () => $(element).val(null).trigger('change'));
        }
    }

    window.addEventListener('DOMContentLoaded', () => {
        document.querySelectorAll('.team-autocomplete:not([name*=__prefix__])').forEach(start);
    });

    document.addEventListener('formset:added', (event) => {
        event.target.querySelectorAll('.team-autocomplete').forEach(start);
    });
}
