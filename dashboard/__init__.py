"""The cxkpi dashboard (Streamlit): pages in app_pages/, data through data.py only."""
