"""Sample services, WSDL/OpenAPI documents, policies and messages.

Read and copy from here.  The folder is installed as the import package
``apisec_samples`` so that ``apisec demo`` finds the same services in a
non-editable install.
"""
