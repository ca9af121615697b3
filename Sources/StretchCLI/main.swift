import Stretch
print("stretch")
