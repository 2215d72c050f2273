"""ipcc IVR: trees in YAML, a sans-I/O interpreter, prompts spoken from recorded fragments.

Where things are (see docs/ivr.md for the tree format):

* ``ivr.schema`` / ``ivr.loader`` - validate tree files into ``ivr.nodes.Tree``;
* ``ivr.session.IvrSession`` - the interpreter: events in, actions out (``ivr.events``);
* ``ivr.registry.TreeRegistry`` - trees in force, DNIS -> tenant + tree, reload;
* ``ivr.speech`` - numbers, money, dates as fragment names (English, Mandarin);
* ``ivr.prompts`` / ``ivr.prompt_catalog`` - fragment/prompt names -> WAV files, texts;
* ``ivr.stats`` - visits, drop-offs, containment from session traces;
* ``ivr.lint``, ``ivr.svg``, ``ivr.cli`` - ``ipcc ivr lint`` and ``ipcc ivr show``;
* ``ivr.simulate`` - drive a session on a virtual clock (tests, trying a tree).
"""
